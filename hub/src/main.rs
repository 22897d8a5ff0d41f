//! `ferrohub`: parse the command line and configuration, start logging, bind, and run.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use ferrohub::config::{ConfigSource, HubConfig, Overrides, EXAMPLE_CONFIG};
use ferrohub_shared::process;
use std::path::PathBuf;

/// A JupyterHub-compatible hub.
///
/// Any configuration key can also be given as --Table.key=value, e.g.
/// --JupyterHub.base_url=/jupyter/ or --Spawner.start_timeout=120.
#[derive(Parser, Debug)]
#[command(name = "ferrohub", version, about, long_about = None)]
struct Cli {
    /// The configuration file (TOML); see --generate-config.
    #[arg(short = 'f', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print an example configuration with every key at its default, and exit.
    #[arg(long)]
    generate_config: bool,
    /// Log level: error, warn, info, debug or trace (Python's names work too).
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    log_level: String,
    /// Shorthand for --log-level debug.
    #[arg(long)]
    debug: bool,
    /// Log as human-readable lines or as JSON objects.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// The public IP address (sets the host of JupyterHub.bind_url).
    #[arg(long)]
    ip: Option<String>,
    /// The public port (sets the port of JupyterHub.bind_url).
    #[arg(long)]
    port: Option<u16>,
    /// JupyterHub.base_url
    #[arg(long)]
    base_url: Option<String>,
    /// JupyterHub.db_url
    #[arg(long = "db", value_name = "URL")]
    db_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the database or bring its schema up to date, then exit.
    UpgradeDb,
    /// Mint an API token for an existing user and print it.
    Token {
        /// The user the token belongs to.
        user: String,
        /// A scope for the token (repeatable); none means all of the user's own.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A note shown with the token.
        #[arg(long, default_value = "generated at the command line")]
        note: String,
        /// Seconds until the token expires; none means never.
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<u64>,
    },
    /// Print a one-time link and PIN that let an existing user set a (new) password, for
    /// the native authenticator: an invitation, or a reset for a forgotten password.
    PasswordLink {
        /// The user who will set the password.
        user: String,
    },
    /// Lock a user's account (native authenticator): their password stops working and every
    /// browser session of theirs ends at once, with the server logins made through it. Their
    /// proxy sessions are queued for revocation, which the running hub delivers to the proxy
    /// within ConfigurableHTTPProxy.check_running_interval seconds.
    Lock { user: String },
    /// Unlock an account locked with `ferrohub lock`.
    Unlock { user: String },
    /// Print the key ferrohub-proxy needs to serve private routes and accept scoped route
    /// credentials, for a proxy the hub does not start itself (ConfigurableHTTPProxy.
    /// should_start = false): save it in a file only the proxy can read and pass
    /// --proxy-key-file FILE, or set FERROHUB_PROXY_KEY. Derived from the cookie secret.
    ProxyKey,
    /// Print a credential for the proxy API that can read, add and delete routes under
    /// PREFIX only (e.g. /user/alice/), for `Authorization: token ...`.
    ProxyCredential {
        /// The route prefix the credential is good for.
        prefix: String,
    },
    /// Applications: register Docker images users may launch through their manager, and
    /// grant them to users and groups (as simphony-remote's `remoteappdb app`).
    App(ferrohub::commands::apps::AppArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// Split `--Table.key=value` and `--Table.key value` settings out of the arguments, as
/// JupyterHub's command line accepts them, leaving the rest for clap.
fn split_dotted_args(args: Vec<String>) -> (Vec<String>, Overrides) {
    let mut rest = Vec::new();
    let mut overrides = Overrides::default();
    let mut iter = args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        let dotted = arg
            .strip_prefix("--")
            .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
            .filter(|name| name.split('=').next().unwrap_or("").contains('.'));
        match dotted {
            Some(name) => {
                let (key, value) = match name.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (name.to_owned(), iter.next().unwrap_or_default()),
                };
                overrides.push(&key, &value, ConfigSource::CommandLine(format!("--{key}")));
            }
            None => rest.push(arg),
        }
    }
    (rest, overrides)
}

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("the async runtime starts");
    match runtime.block_on(real_main()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole chain on one line; no backtrace, which says nothing to an admin.
            eprintln!("ferrohub: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn real_main() -> anyhow::Result<()> {
    let (args, mut overrides) = split_dotted_args(std::env::args().collect());
    let cli = Cli::parse_from(args);
    if cli.generate_config {
        print!("{EXAMPLE_CONFIG}");
        return Ok(());
    }
    let format = match cli.log_format {
        LogFormat::Human => process::LogFormat::Human,
        LogFormat::Json => process::LogFormat::Json,
    };
    let level = if cli.debug { "debug" } else { &cli.log_level };
    // sqlx logs every statement at info: only its warnings are the hub's business.
    process::init_logging(level, format, &["sqlx=warn"]).map_err(anyhow::Error::msg)?;

    let mut layers = Overrides::from_env(std::env::vars());
    for (key, value, flag) in [
        ("JupyterHub.base_url", &cli.base_url, "--base-url"),
        ("JupyterHub.db_url", &cli.db_url, "--db"),
    ] {
        if let Some(v) = value {
            layers.push(
                key,
                &format!("{v:?}"),
                ConfigSource::CommandLine(flag.into()),
            );
        }
    }
    layers.extend(std::mem::take(&mut overrides));
    let mut config = HubConfig::load(cli.config.as_deref(), &layers)
        .context("the configuration cannot be used")?;
    if cli.ip.is_some() || cli.port.is_some() {
        let mut url = config.public_url();
        if let Some(ip) = &cli.ip {
            url.set_host(Some(ip))
                .with_context(|| format!("--ip {ip} is not an address"))?;
        }
        if let Some(port) = cli.port {
            let _ = url.set_port(Some(port));
        }
        config.hub.bind_url = url.as_str().trim_end_matches('/').to_owned();
        config
            .validate()
            .context("the configuration cannot be used")?;
    }

    match cli.command {
        Some(Command::UpgradeDb) => {
            ferrohub::store::open(&config.db_url()).await?;
            tracing::info!(db_url = %config.hub.db_url, "database schema is up to date");
            return Ok(());
        }
        Some(Command::Token {
            user,
            scopes,
            note,
            expires_in,
        }) => {
            return mint_token(&config, user, scopes, note, expires_in).await;
        }
        Some(Command::PasswordLink { user }) => return password_link(&config, &user).await,
        Some(Command::Lock { user }) => return set_locked(&config, &user, true).await,
        Some(Command::Unlock { user }) => return set_locked(&config, &user, false).await,
        Some(Command::ProxyKey) => {
            println!("{}", proxy_key(&config)?.to_hex());
            return Ok(());
        }
        Some(Command::ProxyCredential { prefix }) => {
            let spec = ferrohub_shared::routes::RouteSpec::parse(&prefix)
                .with_context(|| format!("{prefix:?} is not a route prefix"))?;
            let credential = ferrohub_shared::route_credential::mint(&proxy_key(&config)?, &spec);
            println!("{}", credential.expose());
            return Ok(());
        }
        Some(Command::App(args)) => {
            let store = ferrohub::store::open(&config.db_url()).await?;
            let out = ferrohub::commands::apps::run(store, &config, args).await?;
            println!("{out}");
            return Ok(());
        }
        None => {}
    }

    let hub_addr = {
        let url = url::Url::parse(&config.hub.hub_bind_url)?;
        format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port_or_known_default().unwrap_or(8081)
        )
    };
    let listener = tokio::net::TcpListener::bind(&hub_addr)
        .await
        .with_context(|| format!("cannot listen on {hub_addr} (JupyterHub.hub_bind_url)"))?;
    ferrohub::run(
        config,
        ferrohub::HubEnv::from_process(),
        listener,
        process::shutdown_signal(),
    )
    .await?;
    Ok(())
}

/// `ferrohub token USER`: print a new token for an existing user on stdout.
async fn mint_token(
    config: &HubConfig,
    user: String,
    scopes: Vec<String>,
    note: String,
    expires_in: Option<u64>,
) -> anyhow::Result<()> {
    use ferrohub::auth::tokens::{mint, TokenRequest};
    let store = ferrohub::store::open(&config.db_url()).await?;
    if store.get_user(&user).await?.is_none() {
        anyhow::bail!(
            "no such user: {user} (create it first, e.g. through the admin page or the API)"
        );
    }
    ferrohub_shared::scopes::parse_all(&scopes).context("cannot mint the token")?;
    let scopes = if scopes.is_empty() {
        vec!["inherit".to_owned()]
    } else {
        scopes
    };
    let request = TokenRequest {
        owner: ferrohub::store::TokenOwner::User(user),
        scopes,
        note,
        expires_in,
        session_id: None,
        oauth_client: None,
    };
    let (token, _) = mint(store.as_ref(), request).await?;
    println!("{}", token.expose());
    Ok(())
}

/// `ferrohub password-link USER`: print a link and its PIN (to be handed over separately).
async fn password_link(config: &HubConfig, user: &str) -> anyhow::Result<()> {
    let store = ferrohub::store::open(&config.db_url()).await?;
    let Some(record) = store.get_user(user).await? else {
        anyhow::bail!("no such user: {user} (create it first, e.g. through the API)");
    };
    let hours = config.native_authenticator.link_lifetime_hours;
    let link = ferrohub::auth::password_links::issue(store.as_ref(), &record, hours).await?;
    println!("{}", link.url(&config.public_url(), &config.hub.base_url));
    println!(
        "PIN: {} (valid for {hours} hours; give it to {user} separately)",
        link.pin.expose()
    );
    Ok(())
}

/// Lock or unlock `user`'s account; locking also ends their sessions and queues their proxy
/// sessions for revocation. Unlocking restores neither: the user logs in again.
async fn set_locked(config: &HubConfig, user: &str, locked: bool) -> anyhow::Result<()> {
    let store = ferrohub::store::open(&config.db_url()).await?;
    let Some(creds) = store.credentials(user).await? else {
        anyhow::bail!("no such user: {user}");
    };
    store
        .set_credentials(user, creds.password_hash.as_deref(), locked)
        .await?;
    if locked {
        let ended = store.end_user_sessions(user).await?;
        println!(
            "{user} is locked; {ended} session(s) ended (the running hub revokes them at the \
             proxy within {} seconds)",
            config.proxy.check_running_interval
        );
    } else {
        println!("{user} is unlocked");
    }
    Ok(())
}

/// The hub's proxy key, from the cookie secret the hub itself would use.
fn proxy_key(config: &HubConfig) -> anyhow::Result<ferrohub_shared::proxy_key::ProxyKey> {
    let from_env = std::env::var(ferrohub_shared::env::JPY_COOKIE_SECRET).ok();
    let secret = ferrohub::cookie_secret::load_or_create(
        &config.hub.cookie_secret_file,
        from_env.as_deref(),
    )?;
    Ok(ferrohub_shared::proxy_key::ProxyKey::derive(secret.bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_args_are_split_out() {
        let args = [
            "ferrohub",
            "--JupyterHub.base_url=/x/",
            "--Spawner.cmd",
            "[\"a\"]",
            "--debug",
        ]
        .map(String::from)
        .to_vec();
        let (rest, overrides) = split_dotted_args(args);
        assert_eq!(rest, vec!["ferrohub", "--debug"]);
        let c = HubConfig::load(None, &overrides).unwrap();
        assert_eq!(c.hub.base_url, "/x/");
        assert_eq!(c.spawner.cmd, vec!["a"]);
    }
}
