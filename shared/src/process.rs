//! What every ferrohub program does the same way when it starts and stops: logging to
//! standard error at a level (Python's level names work too, as JupyterHub's admins write
//! them; `RUST_LOG`, when set, wins), as lines or JSON, coloured only on a terminal; and
//! waiting for SIGINT or SIGTERM. Behind the `process` feature.

use std::io::IsTerminal;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// Start logging at `level`, with `extra` directives after it (e.g. `sqlx=warn` to quiet a
/// chatty dependency). An unknown level is an error that lists the known ones.
pub fn init_logging(level: &str, format: LogFormat, extra: &[&str]) -> Result<(), String> {
    let level = match level.to_ascii_lowercase().as_str() {
        "critical" | "error" => "error",
        "warning" | "warn" => "warn",
        "info" => "info",
        "debug" => "debug",
        "trace" => "trace",
        other => {
            return Err(format!(
                "unknown log level `{other}`; use error, warn, info, debug or trace"
            ))
        }
    };
    let directives = [level]
        .iter()
        .chain(extra)
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&directives))
        .map_err(|e| format!("bad log filter {directives:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A hub sends its servers' output to files: colour codes only on a terminal.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// Wait for SIGINT (Ctrl-C, or a hub stopping its server) or SIGTERM (`docker stop`, a
/// service manager), and say which came.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
        _ = term.recv() => tracing::info!("terminated: stopping"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_levels_are_refused_with_the_known_ones() {
        let err = super::init_logging("loud", super::LogFormat::Human, &[]).unwrap_err();
        assert!(err.contains("unknown log level `loud`"), "{err}");
        assert!(err.contains("error, warn, info, debug or trace"), "{err}");
    }
}
