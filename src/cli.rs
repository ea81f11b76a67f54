//! Command-line arguments (clap). Each field's doc comment is its `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fitpipe_export::Format;
use fitpipe_ingest::provider::Provider;

use fitpipe_pipeline::env;

/// Get your own Fitbit data into tidy Parquet and CSV tables.
///
/// fitpipe reads the Google Health API (`--provider google-health`), the Fitbit Web API
/// (archives of its responses, and the simulator) and Takeout archives, and writes one set
/// of tables (daily_activity, heart_rate_zones, sleep_sessions, sleep_stages,
/// heart_rate_intraday, activity_intraday, profile, hrv_daily, spo2_daily, vo2max_daily,
/// weight_log, breathing_rate_daily, active_zone_minutes_daily, skin_temperature_daily)
/// that load straight into pandas, polars and DuckDB. See docs/schema.md for
/// every column.
#[derive(Debug, Parser)]
#[command(
    name = "fitpipe",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Authorise fitpipe to read your data (OAuth 2.0 with PKCE); `auth status`, `auth revoke`.
    Auth(AuthArgs),
    /// Fetch a date range from the API into the tables (incremental from cron).
    ///
    /// Plans each resource as the fewest requests its maximum range allows, paces itself
    /// (Fitbit: by the rate-limit headers, 150 an hour; Google Health: 240 in any minute,
    /// under its 300), saves every response under `<out>/raw` before transforming it,
    /// and records progress so an interrupted run resumes and a run without `--from`
    /// fetches only new days plus an overlap.
    ///
    /// Examples:
    ///   fitpipe ingest --demo --from 2020-04-01         # against the built-in simulator
    ///   fitpipe ingest --from 2020-04-01                # first backfill
    ///   fitpipe ingest                                  # later: only what is new
    ///   fitpipe ingest --from 2024-01-01 --intraday heart,steps
    ///   fitpipe ingest --provider google-health --from 2020-04-01   # the Google Health API
    #[command(verbatim_doc_comment)]
    Ingest(IngestArgs),
    /// Run a declared pipeline (TOML), e.g. `fitpipe run pipelines/daily.toml` from cron.
    ///
    /// Exit codes: 0 done (or another run holds the lock, or the rate budget ran out with
    /// `no_wait`), 1 a problem to fix (auth needed, bad file, partial run), 2 a bug.
    Run(RunArgs),
    /// Remake every table from the raw responses under `<out>/raw`, without a request.
    Rebuild(RebuildArgs),
    /// Print one raw API response, e.g. `fitpipe api GET /1/user/-/profile.json` or
    /// `fitpipe api GET /v4/users/me/identity --provider google-health`.
    Api(ApiArgs),
    /// Run the API simulator standalone (Fitbit Web API, Google Health API and their OAuth on 127.0.0.1).
    Sim(SimArgs),
    /// Draw a chart from the tables: steps per day, sleep stages per night, resting heart rate.
    ///
    /// Examples:
    ///   fitpipe plot steps --last 7d
    ///   fitpipe plot sleep --from 2020-04-13 --to 2020-04-17 -o sleep.svg
    ///   fitpipe plot heart --last 90d --data data/demo
    #[command(verbatim_doc_comment)]
    Plot(PlotArgs),
    /// What the dataset holds: rows and date range per table, last runs, token state.
    Status(StatusArgs),
    /// Withdraw a person: remove every row and raw answer of `--user` from the dataset
    /// (everyone else's data untouched), then revoke their grant at the provider and
    /// delete their tokens. With `--study`: wherever the study writes (every object of
    /// theirs in a bucket), with the study's client, then record the withdrawal so their
    /// links no longer enroll them (`fitpipe enroll STUDY readmit ID` lifts it).
    ///
    /// Examples:
    ///   fitpipe forget --user 3005158117181735157 --data data
    ///   fitpipe forget --user P017 --study study.toml
    #[command(verbatim_doc_comment)]
    Forget(ForgetArgs),
    /// Enroll a study's participants: signed personal links, and the consent page they
    /// open (serve it behind your TLS proxy).
    ///
    /// Example: fitpipe enroll study.toml link P001 P002
    ///          fitpipe enroll study.toml serve
    #[command(verbatim_doc_comment)]
    Enroll(EnrollArgs),
    /// Load files you already have into the tables.
    #[command(subcommand)]
    Import(Import),
    /// Print docs/schema.md: every table, column, type, key and time rule.
    Schema,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub action: Option<AuthAction>,
    /// OAuth client id of your app [default: from the config file].
    #[arg(long, env = env::CLIENT_ID)]
    pub client_id: Option<String>,
    /// Redirect URI registered for your app; fitpipe listens on its loopback port.
    /// The client secret comes from `FITPIPE_CLIENT_SECRET`, the config file or a prompt.
    #[arg(long)]
    pub redirect_uri: Option<String>,
    /// Print the authorization URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Give up waiting for the browser after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Take over the tutorial's `client_details.json` and `user_details.json` from DIR.
    #[arg(long, value_name = "DIR")]
    pub import_tutorial: Option<PathBuf>,
    #[command(flatten)]
    pub api: ApiBase,
}

#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// Authorised users, scopes and token expiry (never the tokens).
    Status {
        /// Only this provider's users.
        #[arg(long, env = env::PROVIDER, value_enum)]
        provider: Option<ProviderArg>,
        /// Print JSON (one object per user) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a user's authorisation at the provider and delete its tokens.
    Revoke {
        /// The user [default: the only authorised one].
        #[arg(long, env = env::USER)]
        user: Option<String>,
        #[command(flatten)]
        api: ApiBase,
    },
}

#[derive(Debug, Args, Clone)]
pub struct ApiBase {
    /// The API: `google-health` (the Google Health API v4, the live one) or `fitbit-web-api`
    /// (the tutorial's; turned off on 2026-11-02, still served by `fitpipe sim` and
    /// `--demo`) [default: the provider of your stored authorisation; `google-health` for
    /// a first `fitpipe auth`; `fitbit-web-api` for `--demo`].
    #[arg(long, env = env::PROVIDER, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Base URL of the API and its OAuth endpoints, e.g. a `fitpipe sim`
    /// [default: https://api.fitbit.com or https://health.googleapis.com].
    #[arg(long, env = env::API_BASE)]
    pub api_base: Option<String>,
}

impl ApiBase {
    /// The provider given by flag or environment, if any.
    pub fn provider(&self) -> Option<Provider> {
        self.provider.map(Into::into)
    }
}

/// `--provider` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    /// The Fitbit Web API.
    FitbitWebApi,
    /// The Google Health API v4.
    GoogleHealth,
}

impl From<ProviderArg> for Provider {
    fn from(p: ProviderArg) -> Provider {
        match p {
            ProviderArg::FitbitWebApi => Provider::Fitbit,
            ProviderArg::GoogleHealth => Provider::Google,
        }
    }
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// First day to fetch [default: the day after the last run, less the overlap].
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Last day to fetch [default: today in the user's time zone].
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// Daily resources, comma-separated (the list comes from each provider's resource specs).
    #[arg(long, value_delimiter = ',', long_help = resources_help())]
    pub resources: Vec<String>,
    /// Intraday series too, comma-separated (the list comes from each provider's specs).
    #[arg(long, value_delimiter = ',', long_help = intraday_help())]
    pub intraday: Vec<String>,
    /// The authorised user to fetch [default: the only one].
    #[arg(long, env = env::USER)]
    pub user: Option<String>,
    /// Days before the last fetched day to fetch again, at least. The days since the
    /// tracker last synced after them are always fetched again (the device list says
    /// when), however many; and a run when nothing has synced since the last one fetches
    /// no days at all.
    #[arg(long, default_value_t = 3)]
    pub overlap: i64,
    /// Ignore recorded progress and fetch the whole range again (also when no device
    /// has synced since the last run).
    #[arg(long)]
    pub refetch: bool,
    /// The valid-day rule of `day_quality`: a day is valid with at least this many
    /// minutes with heart rate [default: the dataset's last rule, else 600].
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(0..=1440))]
    pub valid_day_minutes: Option<u32>,
    /// Print the planned requests and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// When the hour's rate budget is spent, stop (everything fetched is kept) instead of
    /// waiting (Fitbit; Google's per-minute pacing waits at most a minute and always waits).
    #[arg(long)]
    pub no_wait: bool,
    /// Run against the built-in simulator: starts it on a loopback port, authorises with the
    /// real OAuth code flow and writes to `./data/demo` (or `--data`).
    #[arg(long)]
    pub demo: bool,
    /// The user's IANA time zone [default: from the profile].
    #[arg(long, env = env::TIMEZONE)]
    pub timezone: Option<String>,
    /// No progress bars or notes (for cron); errors still go to stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Log every request, wait and retry to stderr.
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub api: ApiBase,
    #[command(flatten)]
    pub data: DataArg,
    /// Formats to write, comma-separated: `parquet`, `csv` [default: Parquet for every
    /// table, and CSV copies of the daily tables; `--format parquet,csv` adds CSV copies of
    /// the intraday tables].
    #[arg(long, env = env::FORMAT, value_delimiter = ',')]
    pub format: Option<Vec<Format>>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file (see pipelines/daily.toml), or a study file with a roster (see
    /// pipelines/study.toml): every participant, several at once.
    pub pipeline: PathBuf,
    /// A study's stable share `I/N` for this host (0 <= I < N): N cron hosts, or a
    /// Kubernetes Indexed Job with `--shard $(JOB_COMPLETION_INDEX)/N`, split the roster
    /// with no coordinator and never write the same files.
    #[arg(long, env = "FITPIPE_SHARD")]
    pub shard: Option<String>,
    /// A study's summary as JSON (one object per participant).
    #[arg(long)]
    pub json: bool,
    /// No progress bars or notes.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The study file (see pipelines/study.toml; `[enroll]` holds the page's settings).
    pub study: PathBuf,
    #[command(subcommand)]
    pub action: EnrollAction,
}

#[derive(Debug, Subcommand)]
pub enum EnrollAction {
    /// Print personal links, one `ID<TAB>LINK` per line [default: everyone on the roster
    /// not yet enrolled]. A link enrolls once and expires after `link_days`.
    Link {
        /// Study ids.
        ids: Vec<String>,
    },
    /// Serve the consent page on `[enroll] listen` (plain HTTP; put the TLS proxy in
    /// front) until stopped. The client secret comes from `FITPIPE_CLIENT_SECRET`.
    Serve {
        /// Listen here instead of `[enroll] listen`.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Let a participant who withdrew (`fitpipe forget --study`) enroll again: their
    /// old links stay refused, so send them a new one (`link ID`).
    Readmit {
        /// The study id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The user's IANA time zone [default: from the saved profile responses].
    #[arg(long, env = env::TIMEZONE)]
    pub timezone: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// HTTP method: GET, or POST for Google Health's `:rollUp` and `:dailyRollUp` (with `--body`).
    #[arg(value_parser = ["GET", "get", "POST", "post"])]
    pub method: String,
    /// Path with its query, e.g. `/1/user/-/profile.json` or `/v4/users/me/identity`.
    pub path: String,
    /// JSON body of a POST, e.g. `{"range":{"start":{"date":{"year":2026,"month":11,"day":1}},"end":{"date":{"year":2026,"month":11,"day":8}}},"windowSizeDays":1}`.
    #[arg(long, value_name = "JSON")]
    pub body: Option<String>,
    /// The authorised user [default: the only one].
    #[arg(long, env = env::USER)]
    pub user: Option<String>,
    #[command(flatten)]
    pub api: ApiBase,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    pub port: u16,
    /// Seed of the synthetic people.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of people.
    #[arg(long, default_value_t = 3)]
    pub users: usize,
    /// Requests per user per hour.
    #[arg(long, default_value_t = 150)]
    pub rate_limit: u32,
    /// Answer the consent page with Allow automatically.
    #[arg(long)]
    pub auto_consent: bool,
    /// A scenario file (TOML: any field of the simulator's config, e.g. `faults`, `gone`).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Import {
    /// Load raw Fitbit Web API responses (such as the tutorial's `fitbit_data.json`) or saved
    /// Google Health API answers (each file recognised by its shape).
    ///
    /// Each file is recognised by its shape: daily series (`activities-steps`, the
    /// tutorial's `activities-log-steps`, ...), heart rate, intraday series, sleep v1.2
    /// and the profile. Nothing is written unless every file is understood; re-importing
    /// the same files changes nothing.
    ///
    /// Example: fitpipe import json fitbit_data.json profile.json --out data
    Json(ImportJson),
    /// Load a Takeout or account archive (years of history at once), `.zip` or folder.
    ///
    /// Reads the legacy JSON families of `Global Export Data/` (or `user-site-export/`)
    /// and Google's CSV streams and daily summaries (the list is at the end of `--help`),
    /// each with its own time-zone rule, into the same tables (`source = takeout`).
    /// Damaged or unknown files are reported and skipped (exit code 1); the rest is imported.
    ///
    /// Example: fitpipe import takeout ~/Downloads/takeout-20261001T120000Z-001.zip --user-id ABC123
    #[command(after_long_help = takeout_families_help())]
    Takeout(ImportTakeout),
}

#[derive(Debug, Args)]
pub struct ImportTakeout {
    /// The archive: a `.zip` (one part of a split export at a time) or the folder it was
    /// extracted to.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Value of `user_id` on every row; use your Fitbit user id so the rows merge with
    /// API rows of the same days [default: `-`].
    #[arg(long)]
    pub user_id: Option<String>,
    /// The user's IANA time zone [default: from `Your Profile/Profile.csv`].
    #[arg(long, env = env::TIMEZONE)]
    pub timezone: Option<String>,
    /// The unit the account recorded weight in (`kg` or `lb`); the archive does not say,
    /// so weight logs are skipped unless it is given.
    #[arg(long, value_enum)]
    pub weight_unit: Option<WeightUnit>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WeightUnit {
    Kg,
    Lb,
}

#[derive(Debug, Args)]
pub struct ImportJson {
    /// JSON files, or folders to search for `*.json` files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Value of `user_id` on every row [default: the `encodedId` of a profile response
    /// among the inputs, else `-`].
    #[arg(long)]
    pub user_id: Option<String>,
    /// The user's IANA time zone, e.g. `Europe/London`, used to derive `*_utc` columns
    /// [default: the `timezone` of a profile response among the inputs].
    #[arg(long, env = env::TIMEZONE)]
    pub timezone: Option<String>,
    /// Unit system the responses were fetched with: `us` for `Accept-Language: en_US`
    /// (python-fitbit's default: miles, feet), else `metric`.
    #[arg(long, value_enum, default_value_t = UnitsArg::Metric)]
    pub units: UnitsArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnitsArg {
    Metric,
    Us,
}

/// The dataset a command reads or writes: one flag in every command.
#[derive(Debug, Args, Clone)]
pub struct DataArg {
    /// The dataset: a folder (tables in `<data>/<table>/`, CSV copies in
    /// `<data>/csv/<table>/`) or object storage (`s3://bucket/prefix`, `gs://`, `az://`,
    /// `file:///`; credentials from `AWS_*`, `GOOGLE_*`, `AZURE_*`) [default: ./data].
    /// `--out` is the same flag.
    #[arg(long = "data", visible_alias = "out", env = env::DATA, value_name = "DIR|URL")]
    pub data: Option<String>,
}

impl DataArg {
    /// The dataset named (`--data`, `FITPIPE_DATA`, `FITPIPE_OUT`), else `default`.
    pub fn or(&self, default: &str) -> String {
        self.given().unwrap_or_else(|| default.to_string())
    }

    /// The dataset, if one was named at all.
    pub fn given(&self) -> Option<String> {
        named_or_env(self.data.clone())
    }
}

/// A dataset named by a flag, else by `FITPIPE_OUT` (the older variable; `FITPIPE_DATA`
/// comes through the flag itself).
pub fn named_or_env(flag: Option<String>) -> Option<String> {
    flag.or_else(|| env::get(env::OUT))
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Formats to write, comma-separated: `parquet`, `csv` [default: Parquet for every
    /// table, and CSV copies of the daily tables; `--format parquet,csv` adds CSV copies of
    /// the intraday tables].
    #[arg(long, env = env::FORMAT, value_delimiter = ',')]
    pub format: Option<Vec<Format>>,
    /// No progress bars or notes; errors still go to stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlotKind {
    /// A bar per day, with the daily goal and the average.
    Steps,
    /// Hours of deep, light, REM and wake per night (classic nights: asleep, restless, awake).
    Sleep,
    /// Resting heart rate per day with its 7-day rolling average.
    Heart,
}

impl PlotKind {
    pub fn name(self) -> &'static str {
        match self {
            PlotKind::Steps => "steps",
            PlotKind::Sleep => "sleep",
            PlotKind::Heart => "heart",
        }
    }
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// What to draw.
    #[arg(value_enum)]
    pub kind: PlotKind,
    /// First day [default: a week before `--to`].
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Last day [default: today].
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// The last N days up to `--to` (e.g. `7d`), instead of `--from`.
    #[arg(long, value_name = "Nd")]
    pub last: Option<String>,
    /// Whose data [default: the only user in the tables].
    #[arg(long, env = env::USER)]
    pub user: Option<String>,
    /// The dataset: a folder or object storage (`s3://bucket/prefix`, ...) [default:
    /// ./data].
    #[arg(long, env = env::DATA, value_name = "DIR|URL")]
    pub data: Option<String>,
    /// The dataset as in every other command; a name ending in `.png` or `.svg` is the
    /// picture (as before `-o` existed).
    #[arg(long, hide = true)]
    pub out: Option<String>,
    /// The picture to write: `.png` or `.svg` [default: fitpipe-<kind>.png].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Daily step goal drawn on the steps chart.
    #[arg(long, default_value_t = 10_000.0)]
    pub goal: f64,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The person to remove: the `user_id` of their rows (and of their stored grant).
    #[arg(long, env = env::USER)]
    pub user: String,
    /// Keep the grant (only remove the data).
    #[arg(long)]
    pub keep_grant: bool,
    /// The study the person is a participant of (`--user` is their study id): their data
    /// goes from the study's `out` (a `--data` that names another place is refused),
    /// their grant is revoked with the study's client, and the withdrawal is recorded.
    #[arg(long)]
    pub study: Option<PathBuf>,
    #[command(flatten)]
    pub api: ApiBase,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Print JSON (stable; documented in docs/status.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// A study's coverage instead: per participant the days with data, wear, last sync
    /// and grant (from the study's output, folder or object storage).
    #[arg(long)]
    pub study: Option<PathBuf>,
    /// With `--study`: days of the coverage window, ending today.
    #[arg(long, default_value_t = 90)]
    pub days: i64,
    /// With `--study`: also draw the coverage heatmap (participants x days) to this PNG.
    #[arg(
        long = "output",
        short = 'o',
        visible_alias = "heatmap",
        value_name = "FILE"
    )]
    pub heatmap: Option<PathBuf>,
}

/// `--resources` help, derived from the catalog: each name, what it is, which API reads
/// it, and the default sets.
pub fn resources_help() -> String {
    catalog_help(
        fitpipe_catalog::Kind::Daily,
        "Daily resources, comma-separated:",
        "`all`: every one the API reads. [default: those marked *]",
    )
}

/// `--intraday` help, derived from the catalog.
pub fn intraday_help() -> String {
    catalog_help(
        fitpipe_catalog::Kind::Intraday,
        "Intraday series too, comma-separated (Fitbit: one request per day each; \
         `heart:1sec`, `steps:15min` pick the detail [default: 1min]; Google: every sample, \
         heart rate about one every 2 seconds):",
        "`all`: every series the API reads.",
    )
}

/// One line per catalog entry of `kind`: name, what it is, and the APIs that read it
/// (`*` where a plain run fetches it).
fn catalog_help(kind: fitpipe_catalog::Kind, head: &str, tail: &str) -> String {
    let mut out = format!("{head}\n");
    let rows = || fitpipe_catalog::CATALOG.iter().filter(|t| t.kind == kind);
    // The names in one column, as wide as the longest.
    let width = rows().map(|t| t.name.len()).max().unwrap_or(0);
    for t in rows() {
        let apis: Vec<String> = [("Fitbit", t.fitbit), ("Google", t.google)]
            .into_iter()
            .filter_map(|(api, r)| r.map(|r| format!("{api}{}", if r.default { "*" } else { "" })))
            .collect();
        // Wrapped here, under the description column (clap would wrap it to the margin):
        // the help is indented 10 and at most 100 wide.
        let text = format!("{} ({})", t.about, apis.join(", "));
        let room = 100usize.saturating_sub(10 + width + 3).max(30);
        let mut line = String::new();
        let mut first = true;
        for word in text.split(' ') {
            if !line.is_empty() && line.len() + 1 + word.len() > room {
                let name = if first { t.name } else { "" };
                out.push_str(&format!("  {name:<width$} {line}\n"));
                first = false;
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let name = if first { t.name } else { "" };
        out.push_str(&format!("  {name:<width$} {line}\n"));
    }
    out.push_str(tail);
    out.trim_end().to_string()
}

/// The file families `import takeout` reads, from their declarations.
pub fn takeout_families_help() -> String {
    let mut out = String::from("Files read (an example name, then the tables it fills):\n");
    for f in fitpipe_transform::takeout::FAMILIES {
        out.push_str(&format!(
            "  {:<54} {}\n",
            f.name.example(),
            f.tables.join(", ")
        ));
    }
    out
}
