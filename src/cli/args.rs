//! The command line as clap reads it: every command, its arguments and their help. No
//! behaviour here; `commands` dispatches what was parsed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::vault::Kind;

#[derive(Parser)]
#[command(
    name = "posbon",
    version,
    about = "An encrypted vault and a dead-man's switch for journalists",
    long_about = "posbon keeps sources, drafts and case notes in an encrypted vault.\n\
                  Passphrases are read from a file, a descriptor or the terminal, never from arguments."
)]
pub struct Cli {
    /// The vault directory [default: the platform data directory, e.g. ~/.local/share/posbon/vault]
    #[arg(long, global = true, env = "POSBON_VAULT", value_name = "DIR")]
    pub(crate) vault: Option<PathBuf>,

    /// Read the passphrase from the first line of FILE
    #[arg(
        long,
        global = true,
        env = "POSBON_PASSPHRASE_FILE",
        value_name = "FILE"
    )]
    pub(crate) passphrase_file: Option<PathBuf>,

    /// Read the passphrase from an open file descriptor (3 or higher)
    #[arg(
        long,
        global = true,
        value_name = "FD",
        conflicts_with = "passphrase_file"
    )]
    pub(crate) passphrase_fd: Option<i32>,

    /// Unlock with the recovery key in FILE instead of the passphrase
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) recovery_key_file: Option<PathBuf>,

    /// Reach the watchers only through this SOCKS5 proxy for this command, as
    /// socks5h://HOST:PORT (Tor: socks5h://127.0.0.1:9050), instead of the one set with
    /// `posbon proxy set`
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) proxy: Option<String>,

    /// The language of messages: tg, ru or en [default: from LC_ALL, LC_MESSAGES or LANG]
    #[arg(long, global = true, env = "POSBON_LANG", value_name = "LANG")]
    pub(crate) lang: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Create a new vault
    Init {
        /// Cheap key derivation for automated tests only: makes the passphrase easy to brute-force
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
    /// Add a record; prints its id. The body is read from stdin unless --body-file or --editor
    #[command(subcommand)]
    Add(AddKind),
    /// Add many records from JSON lines on stdin ({"kind":"draft","title":..,"body":..,"tags":[..]});
    /// prints each new id as soon as that record is on disk
    Import,
    /// List records: id, kind, title (tab-separated)
    List,
    /// Show a record with its body
    Show { id: String },
    /// Change a record's title, tags, fields or body
    Edit(EditArgs),
    /// Delete a record and its attachments
    Rm { id: String },
    /// Attach a file to a record (streamed, any size)
    Attach {
        id: String,
        path: PathBuf,
        /// Name to store it under [default: the file's name]
        #[arg(long)]
        name: Option<String>,
    },
    /// Write an attachment out to a file
    Extract {
        id: String,
        name: String,
        /// Where to write it ("-" for stdout)
        #[arg(long)]
        out: PathBuf,
    },
    /// Remove an attachment from a record
    Detach { id: String, name: String },
    /// Find records containing every word (title, tags, fields, body, attachment names)
    Search {
        /// The words (other users can see them, and the shell keeps them in its history);
        /// without them they are asked for on the terminal, or read from stdin
        words: Vec<String>,
    },
    /// Change the passphrase (the data is not re-encrypted)
    Passwd {
        /// Read the new passphrase from FILE [default: ask twice on the terminal]
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Manage the recovery key
    #[command(subcommand)]
    Recovery(RecoveryCommand),
    /// Manage the duress passphrase, which opens a harmless decoy vault
    #[command(subcommand)]
    Duress(DuressCommand),
    /// Add material without unlocking (sealed to the vault; readable after the next unlock)
    #[command(subcommand)]
    Capture(CaptureCommand),
    /// Export, verify and restore encrypted backups
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Vault maintenance
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Destroy the key slots at once: nobody can open the vault afterwards
    Panic {
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// Open the vault and the switch as a local web app in the browser (this computer only)
    App {
        /// Where to listen (127.0.0.1 or ::1 only) [default: a free port on 127.0.0.1]
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Print the link instead of opening the browser
        #[arg(long)]
        no_browser: bool,
        /// Lock the vault after this long without use (like 10m, 1h)
        #[arg(long, value_name = "DURATION", default_value = "10m")]
        lock_after: String,
        /// A vault made in the app gets cheap key derivation, for automated tests only
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
    /// Play the whole story in a temporary directory: the vault, then two watchers, alerts and a sealed release
    Demo {
        /// Cheap key derivation, for the automated test of the demo only
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
    /// Run or administer a watcher (the server side of the dead-man's switch)
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Enrol this vault's device key with a watcher, using the one-time code its operator gave
    /// you; the bundles you sealed are then sealed again and sent to every watcher, so the
    /// new one holds them too (exit 12 if it does not: the enrolment stands)
    Enrol { url: String, code: String },
    /// Leave a watcher: it forgets you, your phones and your bundles, and this vault forgets
    /// it (refused while alerts it sent this cycle are unanswered by a check-in, or while a
    /// bundle it released can still be downloaded); with --local, only this vault forgets it,
    /// for a watcher that is gone
    Unenrol {
        /// The watcher's URL, as `posbon status` lists it
        #[arg(value_name = "WATCHER")]
        watcher: String,
        /// Only forget the watcher here, without asking it to forget you: for a watcher that
        /// is gone (its server shut down or seized). It is not told, so if it still runs it
        /// keeps watching you and alerts your contacts when you stop checking in: ask its
        /// operator to remove you. Leave a watcher that answers without --local, which makes
        /// it forget you: --local on one that answers is done all the same, with a warning
        #[arg(long)]
        local: bool,
    },
    /// Set the check-in plan on every watcher you are enrolled with, or show it
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Check in with every enrolled watcher; exit 0 only if all accepted (12: accepted, but
    /// a watcher lacks a sealed bundle, holds an old copy, or still holds one you removed)
    Checkin,
    /// Show, per watcher, the plan, last check-in, next deadline and steps fired
    Status,
    /// What happened while you were away, from every watcher, oldest first, in your time
    /// zone: check-ins (laptop or phone), steps fired, alerts per contact and channel and
    /// whether they were delivered, acknowledgements, duress events, releases, downloads
    History,
    /// Pause the switch on every watcher ("offline until"); no deadline falls before then
    Pause {
        /// When the pause ends, like "2026-12-03 18:00" in your time zone (plan set --tz), or
        /// 2026-12-03T13:00:00Z
        #[arg(long, conflicts_with = "for_", required_unless_present = "for_")]
        until: Option<String>,
        /// How long the pause lasts, like 3d or 36h
        #[arg(long = "for", id = "for_")]
        for_: Option<String>,
    },
    /// End a pause on every watcher
    Resume,
    /// The phones that check in for you, on every watcher: list them, revoke one
    #[command(subcommand)]
    Phone(PhoneCommand),
    /// Reach your watchers only through a SOCKS5 proxy such as Tor (kept in the vault)
    #[command(subcommand)]
    Proxy(ProxyCommand),
    /// Who your alerts go to: kept in the vault and sent to every watcher
    #[command(subcommand)]
    Contact(ContactCommand),
    /// For lawyers and contacts: check that an alert is genuine
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Material sealed in advance for your lawyers, released by the watchers if you go silent
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// For lawyers: check a released bundle and write out what it holds. Nothing is written
    /// until it checked out; without --from or --unchecked it is only looked at
    Open {
        /// The bundle, or - for standard input (the bundle, or the archive `age -d` decrypted)
        bundle: PathBuf,
        /// Your age identity file or OpenSSH private key, with or without a passphrase (asked
        /// for, or read from --passphrase-file / --passphrase-fd)
        #[arg(short = 'i', long = "identity", value_name = "KEY")]
        identity: Option<PathBuf>,
        /// Where to write the contents (must not exist) [default: BUNDLE-opened]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The journalist's sealing fingerprint, as they gave it to you in person: refuse the
        /// bundle (exit 10) unless they sealed it
        #[arg(long, value_name = "FINGERPRINT")]
        from: Option<String>,
        /// Write it out without knowing who sealed it (anyone who knows your public key can
        /// make a bundle): only when the journalist could not give you their fingerprint
        #[arg(long, conflicts_with = "from")]
        unchecked: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum ReleaseCommand {
    /// Seal records (and their attachments) for contacts' own keys, and upload the bundle to
    /// every watcher; shows what it will reveal and asks first
    Add {
        #[arg(required = true)]
        records: Vec<String>,
        /// A contact with an --age-recipient (repeatable)
        #[arg(long = "to", required = true, value_name = "CONTACT")]
        to: Vec<String>,
        /// A name for the bundle, shown to the lawyers and stored on the watchers (it is not
        /// encrypted) [default: "bundle" and the start of its id]
        #[arg(long)]
        name: Option<String>,
        /// Who sealed it, as you want to be named in its manifest
        #[arg(long)]
        by: Option<String>,
        /// Allow source records in the bundle (never by default)
        #[arg(long)]
        include_sources: bool,
        /// Do not ask for confirmation (after reading what it will reveal)
        #[arg(long)]
        yes: bool,
    },
    /// List the bundles sealed from this vault
    List,
    /// Seal a bundle again from the records as they are now, and replace it everywhere
    Update {
        id: String,
        #[arg(long)]
        yes: bool,
    },
    /// Remove a bundle from every watcher
    Remove { id: String },
    /// Ask every watcher which bundles it holds, and report any that lacks one, holds an old
    /// copy, or still holds one you removed (exit 12)
    Check,
    /// Show the fingerprint of your sealing key, which signs every bundle: give it to your
    /// lawyers in person, so they can tell your bundles from forgeries
    Key,
}

#[derive(Subcommand)]
pub(crate) enum ContactCommand {
    /// Add (or replace) a contact, with one or more channels
    Add(Box<ContactAddArgs>),
    /// List your contacts and instructions
    List,
    /// Remove a contact
    Remove { name: String },
    /// Send a marked test alert through each channel (of NAME, or of everyone) and report
    Test { name: Option<String> },
    /// Set the instructions your contacts receive with an alert (from FILE, or stdin)
    Instructions {
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Send the contacts kept in the vault to every watcher again
    Sync,
}

#[derive(Args)]
pub(crate) struct ContactAddArgs {
    /// Their name. Without it, the contact is read from --fields-file, or asked for on the
    /// terminal: options are seen by other users and kept in your shell's history
    #[arg(requires_all = ["lang", "tiers"])]
    pub name: Option<String>,
    /// The language their alerts are written in
    #[arg(long, value_parser = ["tg", "ru", "en"], requires = "name")]
    pub lang: Option<String>,
    /// The tier they are in (repeatable): 1 editor, 2 lawyers and NANSMIT, ...; 0 is yourself
    /// (reminders only)
    #[arg(long = "tier", requires = "name")]
    pub tiers: Vec<u8>,
    /// Their role, shown to the others (editor, lawyer, NANSMIT duty officer, family)
    #[arg(long, requires = "name")]
    pub role: Option<String>,
    /// The time zone their alerts show times in [default: the plan's, or UTC]
    #[arg(long, requires = "name")]
    pub tz: Option<String>,
    #[arg(long, value_name = "ADDR", requires = "name")]
    pub email: Vec<String>,
    /// Attach released bundles to their e-mails too [default: the download link only; a mail
    /// provider keeps an attachment for ever]
    #[arg(long, requires = "email")]
    pub email_attach: bool,
    #[arg(long, value_name = "URL", requires = "name")]
    pub webhook: Vec<String>,
    /// A Telegram chat id or @channel (the watcher's bot must be able to write there)
    #[arg(
        long,
        value_name = "CHAT",
        allow_hyphen_values = true,
        requires = "name"
    )]
    pub telegram: Vec<String>,
    /// A phone number like +992..., reached through the watcher's Signal gateway
    #[arg(long, value_name = "NUMBER", requires = "name")]
    pub signal: Vec<String>,
    /// An ntfy topic URL like https://ntfy.sh/your-topic
    #[arg(long, value_name = "URL", requires = "name")]
    pub ntfy: Vec<String>,
    /// A Matrix room id like !abc:matrix.org (the watcher's account must be in it)
    #[arg(long, value_name = "ROOM", requires = "name")]
    pub matrix: Vec<String>,
    /// Their own key for sealed material: an age recipient (age1...) or an ssh-ed25519
    /// public key (repeatable)
    #[arg(long = "age-recipient", value_name = "KEY", requires = "name")]
    pub age_recipients: Vec<String>,
    /// Read the whole contact from FILE ("-" for stdin), one `field: value` a line: name,
    /// lang, tier, role, tz, email, email-attach (yes/no), webhook, telegram, signal, ntfy,
    /// matrix, age-recipient
    #[arg(long, value_name = "FILE", conflicts_with = "name")]
    pub fields_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum AlertCommand {
    /// Check an alert (the e-mail as received, the chat message, or the webhook JSON) from FILE
    /// or stdin; exit 0 only if it is genuine and unaltered
    Verify {
        /// The watcher's fingerprint (like 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d) or its public key
        #[arg(long)]
        watcher: String,
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum WatchCommand {
    /// Run the watcher daemon in the foreground until SIGTERM or Ctrl-C
    Serve {
        /// Data directory [default: the platform data directory, e.g. ~/.local/share/posbon/watcher]
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8470]
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// A TOML file with `data`, `listen`, channels and plans (command-line options win)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The SMTP relay for e-mail alerts: smtp://HOST:PORT (plain, a local relay),
        /// smtp://HOST:587?tls=required (STARTTLS) or smtps://HOST:465
        #[arg(long, value_name = "URL")]
        smtp: Option<String>,
        /// This watcher's address as contacts reach it, for acknowledgement links
        /// [default: http://LISTEN]
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        #[command(flatten)]
        ops: ServeOpsArgs,
    },
    /// Check a watcher config file as `watch serve --config FILE` would read it (and the
    /// secret files it names), and show which alert channels it sets up; exit 2 if it is wrong
    CheckConfig {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Show the alert outbox: pending, failing (and why), and the latest delivered
    Outbox {
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Stop retrying this delivery (its key, from the listing); it is kept as given up
        #[arg(long, value_name = "KEY")]
        give_up: Option<String>,
        /// One JSON object per line instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Print a one-time enrolment code for a new journalist (works with the daemon running or not)
    Invite {
        /// A name for the journalist, shown in alerts
        name: String,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// List the journalists this watcher serves, by the name given at invite (works with the
    /// daemon running or not; no secrets are shown)
    Journalists {
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Remove a journalist: their plan, contacts, phones, bundles and links are deleted
    /// (works with the daemon running or not; asks first unless --yes)
    Remove {
        /// The name given at invite (see `posbon watch journalists`)
        name: String,
        /// The journalist's id, when two share the name
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        /// Remove even while alerts are under way or a released bundle can still be
        /// downloaded (those contacts then hear no all-clear; the download links stop working)
        #[arg(long)]
        force: bool,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// List the actions the escalation queued (one JSON object a line); the daemon must be stopped
    Actions {
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// (Journalist) The same as `posbon status`: each watcher's view of your check-ins
    Status,
    /// (Journalist) Print a one-time link and QR code that sets up a phone for PIN check-ins
    /// with every watcher (and a spare link, served by another watcher, when there are several)
    EnrolPhone {
        /// Only this watcher, added to the phone's pages (served by the first two watchers) [default:
        /// every enrolled watcher, in one link]
        #[arg(long, value_name = "URL")]
        watcher: Option<String>,
    },
}

/// How the watcher is watched: metrics and the log's format.
#[derive(Args, Clone, Default)]
pub(crate) struct ServeOpsArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics; loopback only unless
    /// --metrics-public [default if given without ADDR: 127.0.0.1:8471]
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8471")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Let --metrics-listen use an address other than loopback (never the --listen one)
    #[arg(long)]
    pub metrics_public: bool,
    /// The log on stderr: text, or json (one JSON object a line)
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum ProxyCommand {
    /// Send every request to a watcher through this proxy from now on, and never straight:
    /// socks5h://HOST:PORT (Tor: socks5h://127.0.0.1:9050), which resolves the watchers'
    /// names itself, so that .onion addresses work
    Set {
        #[arg(value_name = "URL")]
        url: String,
    },
    /// Show the proxy requests to watchers go through
    Show,
    /// Send requests to watchers straight again
    Clear,
}

#[derive(Subcommand)]
pub(crate) enum PhoneCommand {
    /// List, per watcher, the phones enrolled: id, when set up, last check-in
    List,
    /// Revoke a phone: the watcher refuses it from then on (enrol it again to use it)
    Remove {
        /// The phone's id from `posbon phone list` (or its first 8 or more hex digits)
        id: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum PlanCommand {
    /// Set the plan: a check-in every DURATION, or inside windows in a time zone, every day
    /// or on some days of the week
    Set(SetPlan),
    /// Show the plan kept in this vault (as last set), with its windows and the days that
    /// have none
    Show,
}

/// `posbon plan set`'s options.
#[derive(Args)]
pub(crate) struct SetPlan {
    /// Check in at least this often (10s, 90m, 2h, 1d)
    #[arg(long, required_unless_present = "windows", conflicts_with = "windows")]
    pub(crate) every: Option<String>,
    /// A window like 09:00-11:00 (every day), or with its days: mon-fri/09:00-11:00,
    /// sat/12:00-14:00 (days: mon tue wed thu fri sat sun, or пн..вс, душанбе..якшанбе;
    /// a range like mon-fri or a list like mon,wed,fri). A window across midnight
    /// (22:00-02:00) belongs to the day it starts on; a day with no window has no
    /// deadline. Repeatable; needs --tz
    #[arg(long = "window", id = "windows", requires = "tz")]
    pub(crate) windows: Vec<String>,
    /// Your time zone, like Asia/Dushanbe: the windows' zone, and the one every time is
    /// shown in (with --every too: the interval still counts from each check-in)
    #[arg(long)]
    pub(crate) tz: Option<String>,
    /// How long after a missed deadline before the first step
    #[arg(long)]
    pub(crate) grace: String,
    /// Remind me this long before each deadline (repeatable)
    #[arg(long = "remind-before")]
    pub(crate) remind_before: Vec<String>,
    /// A step as ACTION:DELAY after the grace (remind, tier1..tier9, release), repeatable
    /// [default: remind:0s tier1:GRACE tier2:2*GRACE release:3*GRACE]
    #[arg(long = "step")]
    pub(crate) steps: Vec<String>,
    /// Also release the sealed bundles at once when a duress code is used
    #[arg(long)]
    pub(crate) release_on_duress: bool,
}

#[derive(Args, Clone, Default)]
pub(crate) struct BodyArgs {
    /// Tag (repeat, or separate with commas)
    #[arg(long = "tag", value_delimiter = ',')]
    pub(crate) tags: Vec<String>,
    /// Read the body from FILE instead of stdin
    #[arg(long, value_name = "FILE", conflicts_with = "editor")]
    pub(crate) body_file: Option<PathBuf>,
    /// Write the body in $VISUAL/$EDITOR (in RAM-backed scratch space only)
    #[arg(long)]
    pub(crate) editor: bool,
}

/// Where an `add` may take its title and fields from instead of options, which other users
/// can read while posbon runs and the shell keeps in its history.
pub(crate) const FIELDS_FILE_HELP: &str = "Read the title and fields from FILE (\"-\" for stdin: the fields, \
an empty line, then the body), one `field: value` a line";

#[derive(Subcommand)]
pub(crate) enum AddKind {
    /// A source: who they are, how to reach them, how far to trust them, what they gave.
    /// Without --name, the name and fields are asked for on the terminal (or read from
    /// --fields-file), so that they stay out of the shell's history
    Source {
        /// Their name (other users can see options, and the shell keeps them in its history)
        #[arg(long)]
        name: Option<String>,
        /// How to reach them
        #[arg(long, requires = "name")]
        contact: Option<String>,
        /// How far to trust them, and why
        #[arg(long, requires = "name")]
        trust: Option<String>,
        /// What they gave you
        #[arg(long, requires = "name")]
        gave: Option<String>,
        #[arg(long, value_name = "FILE", conflicts_with = "name", help = FIELDS_FILE_HELP)]
        fields_file: Option<PathBuf>,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// A draft: title and body. Without --title, the title is asked for on the terminal (or
    /// read from --fields-file)
    Draft {
        /// The title (other users can see options, and the shell keeps them in its history)
        #[arg(long)]
        title: Option<String>,
        #[arg(long, value_name = "FILE", conflicts_with = "title", help = FIELDS_FILE_HELP)]
        fields_file: Option<PathBuf>,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// A case note: case number, court, lawyer, dates, body. Without --case, they are asked
    /// for on the terminal (or read from --fields-file)
    Note {
        /// The case number (other users can see options, and the shell keeps them in its
        /// history)
        #[arg(long = "case")]
        case: Option<String>,
        #[arg(long, requires = "case")]
        court: Option<String>,
        #[arg(long, requires = "case")]
        lawyer: Option<String>,
        #[arg(long, requires = "case")]
        dates: Option<String>,
        #[arg(long, value_name = "FILE", conflicts_with = "case", help = FIELDS_FILE_HELP)]
        fields_file: Option<PathBuf>,
        #[command(flatten)]
        body: BodyArgs,
    },
}

#[derive(Args)]
pub(crate) struct EditArgs {
    pub(crate) id: String,
    /// New title (name of a source, case number of a note)
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// Replace the tags (repeat, or separate with commas)
    #[arg(long = "tag", value_delimiter = ',')]
    pub(crate) tags: Option<Vec<String>>,
    /// Set a field, e.g. --set contact="Signal +992..." (source: contact, trust, gave;
    /// note: court, lawyer, dates)
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub(crate) fields: Vec<String>,
    /// Read a new title, fields and tags from FILE ("-" for stdin: the fields, then with
    /// --stdin-body an empty line and the body), one `field: value` a line; an empty value
    /// clears a field. Unlike --title and --set, kept out of the shell's history
    #[arg(long, value_name = "FILE", conflicts_with_all = ["title", "fields", "tags"])]
    pub(crate) fields_file: Option<PathBuf>,
    /// Replace the body with stdin
    #[arg(long, conflicts_with_all = ["body_file", "editor"])]
    pub(crate) stdin_body: bool,
    /// Replace the body with the contents of FILE
    #[arg(long, value_name = "FILE", conflicts_with = "editor")]
    pub(crate) body_file: Option<PathBuf>,
    /// Edit the body in $VISUAL/$EDITOR (in RAM-backed scratch space only)
    #[arg(long)]
    pub(crate) editor: bool,
}

#[derive(Subcommand)]
pub(crate) enum RecoveryCommand {
    /// Create a recovery key (replacing any earlier one) and print it once
    Add,
    /// Remove the recovery key
    Remove,
}

#[derive(Subcommand)]
pub(crate) enum DuressCommand {
    /// Set or change the duress passphrase
    Set {
        /// Read the duress passphrase from FILE [default: ask twice on the terminal]
        #[arg(long, value_name = "FILE")]
        duress_passphrase_file: Option<PathBuf>,
    },
    /// Remove the duress passphrase
    Remove,
    /// Say whether a duress passphrase and a recovery key are set, and list duress events
    Status,
    /// Tell every watcher the coercion is over: the phone, your reminders and the watchers'
    /// answers follow your real plan again, not the one you were forced to set
    Over,
    /// Take back a false duress alarm: every contact your last duress alarm(s) reached gets a
    /// signed retraction (only with your real passphrase; never from the phone)
    Retract,
}

#[derive(Subcommand)]
pub(crate) enum CaptureCommand {
    /// Capture a note from stdin: its first line is the title unless --title is given (on a
    /// terminal the title is asked for)
    Note {
        /// The title (other users can see options, and the shell keeps them in its history)
        #[arg(long)]
        title: Option<String>,
        #[arg(long, value_enum, default_value = "draft")]
        kind: Kind,
        #[arg(long = "tag", value_delimiter = ',')]
        tags: Vec<String>,
    },
    /// Capture a file
    File {
        path: PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum BackupCommand {
    /// Write an encrypted backup of the whole vault
    Export {
        #[arg(long)]
        out: PathBuf,
        /// Encrypt to this age recipient (age1...) instead of the passphrase; repeatable
        #[arg(long = "to", value_name = "RECIPIENT")]
        recipients: Vec<String>,
    },
    /// Decrypt and check a backup without restoring it
    Verify {
        file: PathBuf,
        /// Open with this age identity file instead of the passphrase
        #[arg(short = 'i', long = "identity", value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Restore a backup into the vault (created with the passphrase if it does not exist)
    Restore {
        file: PathBuf,
        #[arg(short = 'i', long = "identity", value_name = "FILE")]
        identity: Option<PathBuf>,
        /// With a new vault: cheap key derivation, for automated tests only
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum VaultCommand {
    /// Check that every record and attachment decrypts and authenticates
    Check,
}
