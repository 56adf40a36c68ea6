//! Several endpoints for one backend (issue: past one machine): requests go to the
//! least-loaded endpoint whose circuit breaker is closed, a failing one cools down, nothing is
//! lost, and run.json says what share each endpoint had.

use std::sync::atomic::Ordering;

use crate::support::*;
use serde_json::Value;
use wiremock::ResponseTemplate;

/// Always 503: a replica that is down.
struct Down;

impl wiremock::Respond for Down {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        ResponseTemplate::new(503).set_body_string("replica down")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_spread_over_replicas_and_a_failing_one_cools_down() {
    let first = MockTranslator::default();
    let second = MockTranslator::default();
    let first_server = mock_server(first.clone()).await;
    let second_server = mock_server(second.clone()).await;
    let down_server = mock_server(Down).await;
    let workspace = Workspace::new(&first_server.uri());
    let config = workspace.path().join("tarjim.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "breaker_failures = 3\n\
         [[backends.mock.replicas]]\nbase_url = \"{}/v1\"\n\
         [[backends.mock.replicas]]\nbase_url = \"{}/v1\"\n",
        second_server.uri(),
        down_server.uri()
    ));
    std::fs::write(&config, text).unwrap();

    let output = workspace.tarjim(&["run", &samples_arg(), "--out", "out", "--quiet"]);
    let stderr = stderr(&output);
    assert!(output.status.success(), "{stderr}");
    let run = workspace.read_json("run.json");
    assert_eq!(run["ending"], "complete", "{run}");
    assert_eq!(run["articles"]["failed"], 0, "nothing lost: {run}");
    assert_eq!(run["chunks"]["failed"], 0, "nothing lost: {run}");

    let shares = run["endpoints"]["mock"]
        .as_array()
        .expect("endpoint shares");
    assert_eq!(shares.len(), 3, "{run}");
    let share = |index: usize, field: &str| shares[index][field].as_u64().unwrap();
    let by_label = |server: &wiremock::MockServer| {
        shares
            .iter()
            .position(|share| {
                share["endpoint"]
                    .as_str()
                    .unwrap()
                    .starts_with(&server.uri())
            })
            .unwrap_or_else(|| panic!("{} not in {shares:?}", server.uri()))
    };
    let (a, b, down) = (
        by_label(&first_server),
        by_label(&second_server),
        by_label(&down_server),
    );
    // Both healthy replicas carried a real share of the run.
    let requests = run["requests"].as_u64().unwrap();
    for healthy in [a, b] {
        assert_eq!(share(healthy, "failures"), 0, "{shares:?}");
        assert!(
            share(healthy, "attempts") * 5 >= requests,
            "a healthy replica got less than a fifth: {shares:?}"
        );
    }
    assert_eq!(
        share(a, "attempts"),
        first.calls.load(Ordering::SeqCst) as u64
    );
    assert_eq!(
        share(b, "attempts"),
        second.calls.load(Ordering::SeqCst) as u64
    );
    // The failing one was tried until its breaker opened (3 failures in a row), then left
    // alone for its cool-down; every request it failed was answered by another.
    assert!(share(down, "failures") >= 3, "{shares:?}");
    assert_eq!(
        share(down, "attempts"),
        share(down, "failures"),
        "{shares:?}"
    );
    assert!(
        share(down, "attempts") <= 3 + 4,
        "tried after its breaker opened (at most the attempts already in flight): {shares:?}"
    );
    assert_eq!(
        shares[down]["cooling_down"],
        Value::Bool(true),
        "{shares:?}"
    );
    assert_eq!(
        share(a, "attempts") + share(b, "attempts"),
        requests,
        "every request was answered once by a healthy replica"
    );
}
