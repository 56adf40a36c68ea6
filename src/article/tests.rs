//! Tests of the readers: every format, every way an input can be wrong.

use super::reader::sanitize_stem;
use super::*;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::PathBuf;

fn sample(name: &str) -> String {
    format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn write(folder: &Path, name: &str, contents: &[u8]) -> String {
    let path = folder.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create test folder");
    }
    std::fs::write(&path, contents).expect("write test file");
    path.display().to_string()
}

fn messages(errors: &[InputError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

fn read_one(path: &str) -> Article {
    let (mut articles, errors) = read_inputs(&[path.to_string()]);
    assert!(
        errors.is_empty(),
        "unexpected errors: {:?}",
        messages(&errors)
    );
    assert_eq!(articles.len(), 1);
    articles.remove(0)
}

fn read_error(path: &str) -> String {
    let (articles, errors) = read_inputs(&[path.to_string()]);
    assert!(articles.is_empty());
    assert_eq!(errors.len(), 1, "errors: {:?}", messages(&errors));
    errors[0].to_string()
}

#[test]
fn sample_004_title_and_body() {
    let path = sample("004_b6a035201fa0cd3b.txt");
    let article = read_one(&path);
    assert_eq!(
        article.title.as_deref(),
        Some("الخارجية الروسية تحث الأطراف المتصارعة على وقف إراقة الدماء في قره باغ")
    );
    assert_eq!(article.origin, path);
    assert!(article
        .text
        .starts_with("صرحت المتحدثة باسم وزارة الخارجية الروسية، ماريا زاخاروفا،"));
    assert!(article.text.contains("\nSputnik\n"));
    assert!(article.text.ends_with("\nمناقشة"));
    let digest = hex::encode(Sha256::digest(article.text.as_bytes()));
    assert_eq!(article.id, format!("004_b6a035201fa0cd3b-{}", &digest[..8]));
    assert_eq!(
        (article.source, article.url, article.published),
        (None, None, None)
    );
}

#[test]
fn sample_004_through_cleaning() {
    let article = read_one(&sample("004_b6a035201fa0cd3b.txt"));
    let settings = crate::normalize::NormalizeSettings {
        keep_diacritics: true,
        drop_boilerplate: true,
        boilerplate_lines: ["اخترنا لك", "مناقشة", "Sputnik", "شارك"]
            .map(String::from)
            .to_vec(),
        boilerplate_prefixes: vec!["اقرأ أيضاً:".to_string()],
    };
    let cleaned = crate::normalize::clean(&article.text, &settings);
    let dropped: Vec<&str> = cleaned.dropped.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(dropped, vec!["Sputnik", "مناقشة"]);
    assert_eq!(
        cleaned.paragraphs[..3],
        [
            "صرحت المتحدثة باسم وزارة الخارجية الروسية، ماريا زاخاروفا، أن موسكو تشعر بالقلق إزاء تصعيد الوضع في قره باغ وتدعو الأطراف للعودة إلى التسوية الدبلوماسية.",
            "وقالت زاخاروفا: \"نشعر بقلق بالغ إزاء التصعيد الحاد للوضع في ناغورني قره باغ. هناك تقارير تفيد بأن القوات المسلحة الأذربيجانية بدأت، كما تزعم باكو، إجراءات مكافحة الإرهاب في المنطقة وعمليات الرد من قبل التشكيلات المسلحة الأرمينية\".",
            "وأضافت: \"الجانب الروسي يحث الأطراف المتصارعة على وقف إراقة الدماء ووقف الأعمال العدائية على الفور، والعودة إلى الطريق المؤدي إلى تسوية سياسية ودبلوماسية\".",
        ]
    );
}

#[test]
fn samples_folder_reads_in_order_with_titles_where_present() {
    let folder = format!("{}/samples", env!("CARGO_MANIFEST_DIR"));
    let (articles, errors) = read_inputs(&[folder]);
    assert!(errors.is_empty(), "{:?}", messages(&errors));
    let stems: Vec<&str> = articles.iter().map(|a| &a.id[..20]).collect();
    assert_eq!(
        stems,
        vec![
            "000_d24ed62e350e2f11",
            "001_e51f061674820845",
            "002_fa4c1d13aaf5ba4d",
            "003_2cfdabd13fab4b50",
            "004_b6a035201fa0cd3b",
        ]
    );
    let titles: Vec<Option<&str>> = articles.iter().map(|a| a.title.as_deref()).collect();
    assert_eq!(
        titles,
        vec![
            None,
            Some("رئيس أذربيجان: سننهي عملية كاراباخ في حال سلّمت القوات الأرمنية أسلحتها"),
            None,
            Some("أذربيجان تطلق عملية عسكرية ضد ناجورنو قره باغ لمكافحة الإرهاب"),
            Some("الخارجية الروسية تحث الأطراف المتصارعة على وقف إراقة الدماء في قره باغ"),
        ]
    );
    // Ids are stable: reading again gives the same ones.
    let (again, _) = read_inputs(&[format!("{}/samples", env!("CARGO_MANIFEST_DIR"))]);
    let ids: Vec<&String> = articles.iter().map(|a| &a.id).collect();
    let ids_again: Vec<&String> = again.iter().map(|a| &a.id).collect();
    assert_eq!(ids, ids_again);
}

#[test]
fn glob_reads_matching_files_and_reports_no_match() {
    let pattern = format!("{}/samples/00[34]_*.txt", env!("CARGO_MANIFEST_DIR"));
    let (articles, errors) = read_inputs(&[pattern]);
    assert!(errors.is_empty());
    assert_eq!(articles.len(), 2);
    assert!(articles[0].id.starts_with("003_"));
    let pattern = format!("{}/samples/*.nothing", env!("CARGO_MANIFEST_DIR"));
    let error = read_error(&pattern);
    assert!(
        error.contains("glob pattern matched no articles"),
        "{error}"
    );
}

#[test]
fn text_title_rules() {
    let folder = tempfile::tempdir().expect("temp dir");
    let titled = write(
        folder.path(),
        "a.txt",
        "\u{FEFF}عنوان قصير\r\n\r\nالنص الأول.\r\nالنص الثاني.\r\n".as_bytes(),
    );
    let article = read_one(&titled);
    assert_eq!(article.title.as_deref(), Some("عنوان قصير"));
    assert_eq!(article.text, "النص الأول.\nالنص الثاني.");
    let sentence_first = write(folder.path(), "b.txt", "جملة كاملة.\nوأخرى.".as_bytes());
    assert_eq!(read_one(&sentence_first).title, None);
    let single_line = write(folder.path(), "c.txt", "سطر وحيد بلا نقطة".as_bytes());
    let article = read_one(&single_line);
    assert_eq!(article.title, None);
    assert_eq!(article.text, "سطر وحيد بلا نقطة");
    let quoted = write(
        folder.path(),
        "d.txt",
        "قال: \"انتهى.\"\nثم غادر.".as_bytes(),
    );
    assert_eq!(read_one(&quoted).title, None);
}

#[test]
fn markdown_heading_is_title_and_markup_is_removed() {
    let folder = tempfile::tempdir().expect("temp dir");
    let text = "# عنوان **الخبر**\n\n## فرعي\n\nقال [الوزير](https://x.y/z) إن **الوضع** هادئ.\n\n![صورة](a.png)\n- بند أول\n> اقتباس\n---\n[ref]: https://x.y\n";
    let path = write(folder.path(), "news.md", text.as_bytes());
    let article = read_one(&path);
    assert_eq!(article.title.as_deref(), Some("عنوان الخبر"));
    assert_eq!(
        article.text,
        "فرعي\n\nقال الوزير إن الوضع هادئ.\n\nبند أول\n\nاقتباس"
    );
}

#[test]
fn markdown_cleaning_keeps_arithmetic_and_reads_tables() {
    // Harm 4 of the hostile night: `5 * 3 يساوي 15` reached the model as `5 3 يساوي 15`,
    // table rules were sent for translation, and so were code blocks.
    let folder = tempfile::tempdir().expect("temp dir");
    let text = "# حساب\n\nقال إن 5 * 3 يساوي 15 وإن 2_000 * 4 يساوي 8_000.\n\n\
                | المدينة | السكان |\n|---|---|\n| الرياض | 7 ملايين |\n\n\
                ```\nlet x = 1;\n```\n\nسطر أول\nسطر ثان\n";
    let path = write(folder.path(), "math.md", text.as_bytes());
    let article = read_one(&path);
    assert_eq!(article.title.as_deref(), Some("حساب"));
    assert_eq!(
        article.text,
        "قال إن 5 * 3 يساوي 15 وإن 2_000 * 4 يساوي 8_000.\n\nالمدينة | السكان\n\n\
         الرياض | 7 ملايين\n\nسطر أول\nسطر ثان"
    );
}

#[test]
fn html_keeps_main_text_only() {
    let folder = tempfile::tempdir().expect("temp dir");
    let html = r#"<!doctype html><html><head><title>عنوان الصفحة</title>
        <style>p { color: red }</style><script>var x = "لا";</script></head>
        <body><nav><a href="/">الرئيسية</a></nav><header>رأس</header>
        <article><h1>عنوان   الخبر</h1>
          <p>الفقرة <b>الأولى</b>
             تستمر.</p><script>alert(1)</script>
          <div>الفقرة الثانية<br>سطر جديد</div>
          <aside>اقرأ أيضا</aside><figure><img src="a.png"><figcaption>تعليق</figcaption></figure>
          <ul><li>بند</li></ul>
        </article><footer>حقوق</footer></body></html>"#;
    let path = write(folder.path(), "page.html", html.as_bytes());
    let article = read_one(&path);
    assert_eq!(article.title.as_deref(), Some("عنوان الخبر"));
    assert_eq!(
        article.text,
        "الفقرة الأولى تستمر.\n\nالفقرة الثانية\nسطر جديد\n\nبند"
    );
}

#[test]
fn html_without_article_uses_body_and_page_title() {
    let folder = tempfile::tempdir().expect("temp dir");
    let html = "<html><head><title> الصفحة </title></head><body><nav>قائمة</nav><p>نص.</p><p>آخر.</p></body></html>";
    let path = write(folder.path(), "page.htm", html.as_bytes());
    let article = read_one(&path);
    assert_eq!(article.title.as_deref(), Some("الصفحة"));
    assert_eq!(article.text, "نص.\n\nآخر.");
    let empty = write(
        folder.path(),
        "empty.html",
        b"<html><body><nav>x</nav></body></html>",
    );
    let error = read_error(&empty);
    assert!(
        error.ends_with("no article text found in the HTML"),
        "{error}"
    );
}

#[test]
fn json_object_with_metadata() {
    let folder = tempfile::tempdir().expect("temp dir");
    let json = r#"{"title": "عنوان", "content": "نص\r\nالخبر.", "source": "وكالة", "url": "https://x.y/1", "published": "2023-09-20"}"#;
    let path = write(folder.path(), "one.json", json.as_bytes());
    let article = read_one(&path);
    assert_eq!(article.title.as_deref(), Some("عنوان"));
    assert_eq!(article.text, "نص\nالخبر.");
    assert_eq!(article.source.as_deref(), Some("وكالة"));
    assert_eq!(article.url.as_deref(), Some("https://x.y/1"));
    assert_eq!(article.published.as_deref(), Some("2023-09-20"));
    assert!(article.id.starts_with("one-"));
}

#[test]
fn json_array_and_its_errors() {
    let folder = tempfile::tempdir().expect("temp dir");
    let json = r#"[{"text": "الأول."}, {"body": "الثاني."}, {"title": "بلا نص"}, 5, {"text": 7}]"#;
    let path = write(folder.path(), "many.json", json.as_bytes());
    let (articles, errors) = read_inputs(std::slice::from_ref(&path));
    let texts: Vec<&str> = articles.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(texts, vec!["الأول.", "الثاني."]);
    assert_eq!(articles[0].origin, format!("{path}[0]"));
    assert!(articles[1].id.starts_with("many-I1-"));
    assert_eq!(
        messages(&errors),
        vec![
            format!("{path}[2]: no text field; hint: put the article body in \"text\" (or \"body\" or \"content\")"),
            format!("{path}[3]: expected an article object with a \"text\" field, found a number"),
            format!("{path}[4]: field \"text\" must be a string, found a number"),
        ]
    );
}

#[test]
fn malformed_json_names_line_and_column() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = write(
        folder.path(),
        "bad.json",
        b"{\n  \"text\": \"x\",\n  oops\n}",
    );
    let error = read_error(&path);
    assert!(
        error.starts_with(&format!("{path}: malformed JSON at line 3, column 3")),
        "{error}"
    );
}

#[test]
fn jsonl_bad_line_is_reported_and_others_load() {
    let folder = tempfile::tempdir().expect("temp dir");
    let lines = "{\"text\": \"الأول.\", \"title\": \"أ\"}\n{broken\n\n{\"text\": \"الثالث.\"}\n";
    let path = write(folder.path(), "feed.jsonl", lines.as_bytes());
    let (articles, errors) = read_inputs(std::slice::from_ref(&path));
    let origins: Vec<&str> = articles.iter().map(|a| a.origin.as_str()).collect();
    assert_eq!(origins, vec![format!("{path}:1"), format!("{path}:4")]);
    assert!(articles[0].id.starts_with("feed-L1-"));
    assert!(articles[1].id.starts_with("feed-L4-"));
    assert_eq!(articles[0].title.as_deref(), Some("أ"));
    assert_eq!(errors.len(), 1);
    let error = errors[0].to_string();
    assert!(
        error.starts_with(&format!("{path}:2: malformed JSON at line 1, column 2")),
        "{error}"
    );
}

#[test]
fn invalid_utf8_names_file_and_offset() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut bytes = "نص".as_bytes().to_vec();
    bytes.push(0xC7); // Windows-1256 alef: not UTF-8 here.
    bytes.extend_from_slice(b" more");
    let path = write(folder.path(), "cp1256.txt", &bytes);
    let error = read_error(&path);
    assert!(
        error.starts_with(&format!(
            "{path}: not valid UTF-8: invalid byte at offset 4"
        )),
        "{error}"
    );
    assert!(error.contains("iconv"));
}

#[test]
fn legacy_encodings_are_decoded_and_recorded() {
    let folder = tempfile::tempdir().expect("temp dir");
    let text = "قال الوزير إن الاجتماع سيعقد في الرياض.\nوأضاف أن الوضع هادئ.";
    let (cp1256, _, _) = encoding_rs::WINDOWS_1256.encode(text);
    let path = write(folder.path(), "legacy.txt", &cp1256);
    let article = read_one(&path);
    assert_eq!(article.text, text);
    assert_eq!(article.encoding, "windows-1256");
    let page = format!(
        "<html><head><meta charset=\"windows-1256\"><title>خبر</title></head>\
         <body><article><p>{text}</p></article></body></html>"
    );
    let (html, _, _) = encoding_rs::WINDOWS_1256.encode(&page);
    let path = write(folder.path(), "legacy.html", &html);
    let article = read_one(&path);
    assert!(article.text.contains("قال الوزير"), "{}", article.text);
    assert_eq!(article.encoding, "windows-1256");
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let path = write(folder.path(), "utf16.txt", &utf16);
    let article = read_one(&path);
    assert_eq!(article.text, text);
    assert_eq!(article.encoding, "UTF-16LE");
}

#[test]
fn binary_empty_and_missing_inputs_are_errors() {
    let folder = tempfile::tempdir().expect("temp dir");
    let binary = write(folder.path(), "image.txt", b"\x89PNG\r\n\x1a\n\0\0\0");
    assert!(read_error(&binary).contains("binary file (NUL byte at offset 8)"));
    let empty = write(folder.path(), "empty.txt", b"");
    assert_eq!(
        read_error(&empty),
        format!("{empty}: empty article: no text")
    );
    let blank = write(folder.path(), "blank.txt", " \n\t\r\n\u{200B}\n".as_bytes());
    assert_eq!(
        read_error(&blank),
        format!("{blank}: empty article: no text")
    );
    let missing = folder.path().join("missing.txt").display().to_string();
    assert_eq!(
        read_error(&missing),
        format!("{missing}: no such file or folder; hint: check the path")
    );
    let utf16 = write(folder.path(), "utf16.txt", &[0xFF, 0xFE, 0x34, 0xD8]);
    assert!(read_error(&utf16).contains("not valid UTF-16LE"));
    let pdf = write(folder.path(), "paper.pdf", b"%PDF");
    assert!(read_error(&pdf).contains("unsupported file type .pdf"));
}

#[test]
fn folder_without_articles_and_hidden_files() {
    let folder = tempfile::tempdir().expect("temp dir");
    write(folder.path(), "notes.pdf", b"x");
    write(folder.path(), ".hidden.txt", "مخفي.".as_bytes());
    write(folder.path(), ".git/HEAD.txt", "مخفي أيضا.".as_bytes());
    let path = folder.path().display().to_string();
    let error = read_error(&path);
    assert!(
        error.starts_with(&format!("{path}: folder has no articles")),
        "{error}"
    );
    write(folder.path(), "b/2.TXT", "ثان.".as_bytes());
    write(folder.path(), "a.md", "أول.".as_bytes());
    let (articles, errors) = read_inputs(std::slice::from_ref(&path));
    assert!(errors.is_empty());
    let texts: Vec<&str> = articles.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(texts, vec!["أول.", "ثان."]);
}

#[test]
fn duplicates_keep_the_first() {
    let folder = tempfile::tempdir().expect("temp dir");
    let first = write(folder.path(), "first.txt", "نص مكرر.".as_bytes());
    let second = write(folder.path(), "second.md", "نص مكرر.\n".as_bytes());
    let (articles, errors) = read_inputs(&[first, second.clone()]);
    assert_eq!(articles.len(), 1);
    assert_eq!(
        messages(&errors),
        vec![format!("{second}: duplicate of {}", articles[0].id)]
    );
}

#[test]
fn a_reprint_by_another_outlet_is_kept_as_wire_copy() {
    // Hostile night, harm 8: a reprint by another outlet was dropped as a duplicate, and
    // every duplicate made the night exit 1.
    let folder = tempfile::tempdir().expect("temp dir");
    let feed = write(
        folder.path(),
        "feed.jsonl",
        concat!(
            r#"{"text": "نص الوكالة.", "source": "واس"}"#,
            "\n",
            r#"{"text": "نص الوكالة.", "source": "عكاظ"}"#,
            "\n",
            r#"{"text": "نص الوكالة.", "source": "واس"}"#,
            "\n",
            r#"{"text": ""}"#,
            "\n"
        )
        .as_bytes(),
    );
    let (articles, problems) = read_inputs(&[feed]);
    let sources: Vec<_> = articles.iter().map(|a| a.source.as_deref()).collect();
    assert_eq!(sources, vec![Some("واس"), Some("عكاظ")]);
    assert_eq!(problems.len(), 2);
    assert!(problems.iter().all(InputError::is_skipped), "{problems:?}");
}

#[test]
fn oversized_file_is_refused_from_metadata() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = folder.path().join("huge.txt");
    let file = File::create(&path).expect("create");
    file.set_len(MAX_FILE_BYTES + 1).expect("sparse file");
    let error = read_error(&path.display().to_string());
    assert!(
        error.contains("file is 20.0 MB, over the 20 MB limit"),
        "{error}"
    );
}

#[test]
fn ids_are_safe_file_names() {
    assert_eq!(sanitize_stem("../../etc/passwd"), "etc_passwd");
    assert_eq!(sanitize_stem("خبر عاجل"), "article");
    assert_eq!(sanitize_stem("-rf"), "rf");
    assert_eq!(sanitize_stem(&"a".repeat(60)).len(), 40);
    assert_eq!(
        sanitize_stem("000_d24ed62e350e2f11"),
        "000_d24ed62e350e2f11"
    );
}

#[test]
fn bodies_set_aside_on_disk_come_back_as_read_and_a_lost_one_is_an_error() {
    let folder = tempfile::tempdir().unwrap();
    let spill = std::sync::Arc::new(Spill::new_in(folder.path()).unwrap());
    let inputs = vec![sample("")];
    let (kept, _) = read_inputs(&inputs);
    let (spilled, _) = read_inputs_spilling(&inputs, Some(spill));
    assert_eq!(kept.len(), spilled.len());
    for (kept, spilled) in kept.iter().zip(&spilled) {
        assert!(spilled.text.is_empty() && spilled.spilled.is_some());
        assert_eq!(spilled.id, kept.id);
        assert_eq!(spilled.body().unwrap(), kept.text);
    }
    // A span the file does not hold (the disk lost it): an error that names the input.
    let mut lost = spilled[0].clone();
    let elsewhere = Spill::new_in(folder.path()).unwrap();
    lost.spilled = Some(Spilled {
        spill: std::sync::Arc::new(Spill::new_in(folder.path()).unwrap()),
        span: elsewhere.put(b"0123456789").unwrap(),
    });
    let error = lost.body().unwrap_err();
    assert!(error.contains(&lost.origin), "{error}");
}
