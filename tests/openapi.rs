//! ferrohub's responses checked against JupyterHub's published OpenAPI document, with
//! JupyterHub's own validator stack (jsonschema) from the test venv.

use ferrohub_e2e::{venv_bin, TestHub};
use std::path::PathBuf;

const ADMIN_TOKEN: &str = "openapi-admin-token-5e4d3c2b1a";
/// A minimal single-user server for the servers endpoints.
const TINY_SERVER: &str = r#"
import http.server, os, urllib.parse
url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer((url.hostname, url.port), H).serve_forever()
"#;

/// JupyterHub's OpenAPI document: `FERROHUB_OPENAPI_SPEC`, else the one scripts/python-env.sh
/// extracts from the pinned JupyterHub release into the test venv.
fn spec() -> PathBuf {
    let path = std::env::var_os("FERROHUB_OPENAPI_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/share/jupyterhub-rest-api.yml")
        });
    assert!(
        path.is_file(),
        "JupyterHub's OpenAPI document is missing at {}: run `bash scripts/python-env.sh` \
         or set FERROHUB_OPENAPI_SPEC",
        path.display()
    );
    path
}

#[tokio::test]
async fn responses_match_jupyterhubs_openapi_document() {
    let config = format!(
        r#"
[JupyterHub]
authenticator_class = "dummy"
allow_named_servers = true

[[JupyterHub.services]]
name = "admin-bot"
api_token = "{ADMIN_TOKEN}"
admin = true

[Spawner]
cmd = ["python3", "-c", '''{TINY_SERVER}''']
"#
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
        stdout.contains("0 failed")
            && stdout.matches("\nok ").count() >= 30
            && stdout.contains("ok   POST /users/oa-alice/server -> 201")
            && stdout.contains("ok   DELETE /users/oa-alice/servers/lab -> 204"),
        "{stdout}"
    );
}
