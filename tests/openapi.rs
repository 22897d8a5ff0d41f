//! ferrohub's responses checked against JupyterHub's published OpenAPI document, with
//! JupyterHub's own validator stack (jsonschema) from the test venv.

use ferrohub_e2e::{venv_bin, TestHub};
use std::path::PathBuf;

const ADMIN_TOKEN: &str = "openapi-admin-token-5e4d3c2b1a";

/// JupyterHub's OpenAPI document: `FERROHUB_OPENAPI_SPEC`, else the copy in the reference
/// material beside the project (`../shared/reference/jupyterhub-rest-api.yml`).
fn spec() -> PathBuf {
    let path = std::env::var_os("FERROHUB_OPENAPI_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/reference/jupyterhub-rest-api.yml")
        });
    assert!(
        path.is_file(),
        "JupyterHub's OpenAPI document is missing at {}; set FERROHUB_OPENAPI_SPEC",
        path.display()
    );
    path
}

#[tokio::test]
async fn responses_match_jupyterhubs_openapi_document() {
    let config = format!(
        "[JupyterHub]\nauthenticator_class = \"dummy\"\n\n[[JupyterHub.services]]\nname = \"admin-bot\"\napi_token = \"{ADMIN_TOKEN}\"\nadmin = true\n"
    );
    let hub = TestHub::start("openapi", &config).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi/validate.py");
    let out = std::process::Command::new(venv_bin("python"))
        .arg(script)
        .arg(spec())
        .arg(hub.api_url())
        .arg(ADMIN_TOKEN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "responses that do not match the document:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("0 failed") && stdout.matches("\nok ").count() >= 20,
        "{stdout}"
    );
}
