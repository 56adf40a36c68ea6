//! The stages of a run, built once and shared by every article: translate (with the names
//! chosen before it), summarize, and the brief's two ways of writing a story; and their counts
//! for `run.json`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt};

use super::per_article::{prepare, Prepared};
use super::{Context, RunError};
use crate::article::Article;
use crate::backend::dispatch::DispatchStats;
use crate::backend::Stage;
use crate::brief::BriefInput;
use crate::fidelity::glossary::Glossary;
use crate::names;
use crate::progress::Progress;
use crate::prompt::Template;
use crate::record::{NamesReport, StageBackend};
use crate::settings::Settings;
use crate::stage::{Shared, StageRunner};
use crate::summarize::Summarizer;
use crate::translate::Translator;

/// The stages of the run, ready to ask: translate and summarize (shared by the articles), the
/// brief's two ways, and the names chosen before translating.
pub(super) struct Stages {
    pub(super) context: Arc<Context>,
    brief_runner: Option<StageRunner>,
    story_runner: Option<StageRunner>,
    pub(super) names_report: Option<NamesReport>,
}

impl Stages {
    pub(super) async fn new(
        settings: &Settings,
        shared: &Arc<Shared>,
        (template, glossary): (Template, Glossary),
        articles: &[Article],
        progress: &Arc<dyn Progress>,
    ) -> Result<Stages, RunError> {
        let (glossary, names_report) =
            choose_names(settings, shared, articles, glossary, &**progress).await?;
        let glossary = Arc::new(glossary);
        let translator = Translator {
            runner: StageRunner::new(
                Stage::Translate,
                &settings.stages.translate,
                settings,
                template,
                shared.clone(),
            ),
            plain: Some(crate::eval::plain_runner(settings, shared)),
            glossary: glossary.clone(),
            settings: settings.fidelity.clone(),
            counter: shared.counter.clone(),
        };
        let summarizer = Summarizer {
            runner: optional_runner(
                Stage::Summarize,
                &settings.stages.summarize,
                settings,
                shared,
            )?,
            glossary,
        };
        let context = Arc::new(Context {
            settings: settings.clone(),
            translator,
            summarizer,
            progress: progress.clone(),
        });
        Ok(Stages {
            context,
            brief_runner: optional_runner(Stage::Brief, &settings.stages.brief, settings, shared)?,
            story_runner: optional_runner(
                Stage::BriefStory,
                &settings.stages.brief,
                settings,
                shared,
            )?,
            names_report,
        })
    }

    /// What the brief stage is given.
    pub(super) fn brief_input<'a>(
        &'a self,
        settings: &Settings,
        left_out: Vec<(String, String)>,
    ) -> BriefInput<'a> {
        BriefInput {
            runner: self.brief_runner.as_ref(),
            story_runner: self.story_runner.as_ref(),
            mode: settings.brief.mode,
            grouping: crate::brief::linkage::Limits {
                threshold: settings.brief.story_threshold,
                max_size: settings.brief.max_story_articles,
                window_days: settings.brief.window_days,
            },
            top_stories: settings.brief.top_stories,
            summaries_use_llm: self.context.summarizer.uses_llm(),
            left_out,
            glossary: &self.context.summarizer.glossary,
            progress: &*self.context.progress,
        }
    }

    pub(super) fn runners(&self) -> [Option<&StageRunner>; 4] {
        [
            Some(&self.context.translator.runner),
            self.context.summarizer.runner.as_ref(),
            self.brief_runner.as_ref(),
            self.story_runner.as_ref(),
        ]
    }

    /// One counter summed over every backend of every stage.
    pub(super) fn sum(&self, field: fn(&DispatchStats) -> &AtomicU64) -> u64 {
        self.runners()
            .into_iter()
            .flatten()
            .flat_map(|runner| runner.stats.iter())
            .map(|stats| field(stats).load(Ordering::Relaxed))
            .sum()
    }

    /// Prompt tokens evaluated: those sent, less those reused from a kept prefix.
    pub(super) fn tokens_in_evaluated(&self) -> u64 {
        self.sum(|stats| &stats.prompt_tokens)
            .saturating_sub(self.sum(|stats| &stats.prompt_tokens_reused))
    }

    /// Each stage's backends with their counts, for run.json.
    pub(super) fn backends(&self) -> BTreeMap<&'static str, Vec<StageBackend>> {
        let [translate, summarize, brief, story] = self.runners();
        BTreeMap::from([
            ("translate", runner_backends(translate)),
            ("summarize", runner_backends(summarize)),
            ("brief", runner_backends(brief)),
            ("brief-story", runner_backends(story)),
        ])
    }
}

/// Ask for every article's names, choose one spelling each, remember the choices, and return
/// the glossary extended with them. Without a names stage (or with only MT APIs) the glossary
/// comes back as it was.
pub(super) async fn choose_names(
    settings: &Settings,
    shared: &Arc<Shared>,
    articles: &[Article],
    glossary: Glossary,
    progress: &dyn Progress,
) -> Result<(Glossary, Option<NamesReport>), RunError> {
    let runner = optional_runner(Stage::Names, &settings.stages.names, settings, shared)?;
    let Some(runner) = runner.filter(|runner| runner.is_llm() && settings.fidelity.checks) else {
        return Ok((glossary, None));
    };
    let prepared: Vec<Prepared> = (articles.iter())
        .map(|article| prepare(settings, &shared.counter, article.clone()))
        .collect();
    let asked: Vec<&Prepared> = prepared.iter().filter(|p| p.error.is_none()).collect();
    progress.note(&format!(
        "names: asking for the names in {} article(s) before translating",
        asked.len()
    ));
    let answers = stream::iter(asked.iter().map(|prepared| {
        let runner = &runner;
        async move { names::propose(runner, &prepared.cleaned.paragraphs).await }
    }))
    .buffered(runner.concurrency().max(1))
    .collect::<Vec<_>>()
    .await;
    let mut failed = 0;
    let mut proposals = Vec::new();
    for (prepared, answer) in asked.iter().zip(answers) {
        match answer {
            Ok(names) => proposals.push((names, prepared.cleaned.paragraphs.as_slice())),
            Err(error) => {
                failed += 1;
                progress.note(&format!(
                    "warning: article {}: names: {error}; it is translated with the glossary alone",
                    prepared.article.id
                ));
            }
        }
    }
    let stored = shared.cache.names()?;
    let chosen = names::reconcile(&proposals, &stored, &glossary);
    names::remember(&shared.cache, &chosen)?;
    let report = NamesReport {
        articles: asked.len(),
        failed,
        chosen: chosen.len(),
        from_table: chosen.iter().filter(|name| name.from != "run").count(),
        respelled: chosen
            .iter()
            .filter(|name| !name.other_spellings.is_empty())
            .count(),
        requests: runner.requests(),
    };
    progress.note(&format!(
        "names: {} chosen ({} from the name table, {} proposed with several spellings)",
        report.chosen, report.from_table, report.respelled
    ));
    Ok((glossary.with(names::entries(&chosen)), Some(report)))
}

/// The runner for a stage with an optional backend list (`None` when it names none).
pub(super) fn optional_runner(
    stage: Stage,
    names: &[String],
    settings: &Settings,
    shared: &Arc<Shared>,
) -> Result<Option<StageRunner>, RunError> {
    if names.is_empty() {
        return Ok(None);
    }
    let template = Template::load(&settings.prompts.dir, stage.as_str())?;
    Ok(Some(StageRunner::new(
        stage,
        names,
        settings,
        template,
        shared.clone(),
    )))
}

/// The run.json entries for a stage's backends.
pub(super) fn runner_backends(runner: Option<&StageRunner>) -> Vec<StageBackend> {
    let Some(runner) = runner else {
        return Vec::new();
    };
    runner
        .chain
        .iter()
        .zip(&runner.stats)
        .map(|(dispatcher, stats)| StageBackend {
            backend: dispatcher.name.clone(),
            kind: dispatcher.settings.kind(),
            model: dispatcher.settings.model_name(),
            requests: stats.requests.load(Ordering::Relaxed),
            attempts: stats.attempts.load(Ordering::Relaxed),
            failures: stats.failures.load(Ordering::Relaxed),
            tokens_in: stats.prompt_tokens.load(Ordering::Relaxed),
            tokens_in_evaluated: stats
                .prompt_tokens
                .load(Ordering::Relaxed)
                .saturating_sub(stats.prompt_tokens_reused.load(Ordering::Relaxed)),
            tokens_out: stats.completion_tokens.load(Ordering::Relaxed),
            cost: crate::backend::dispatch::from_nanos(stats.cost_nanos.load(Ordering::Relaxed)),
            structured: dispatcher.structured(),
        })
        .collect()
}
