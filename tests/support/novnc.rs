//! Reading what noVNC shows in a browser driven over WebDriver: whether it is connected, and
//! how much of its canvas is one colour.

use crate::webdriver::Session;
use crate::Running;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Where Debian's `novnc` package puts the web client.
pub const NOVNC: &str = "/usr/share/novnc";

/// `{connected, status, pixels, matching}`: noVNC's state and how many canvas pixels are
/// within 40 of the colour `arguments[0]` (`[r, g, b]`) in each channel.
const CANVAS_SCRIPT: &str = r#"
const [r0, g0, b0] = arguments[0];
const connected = document.documentElement.classList.contains('noVNC_connected');
const status = (document.getElementById('noVNC_status') || {}).textContent || '';
const canvas = document.querySelector('#noVNC_container canvas');
if (!canvas || canvas.width === 0) return {connected, status, pixels: 0, matching: 0};
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let matching = 0;
for (let i = 0; i < data.length; i += 4) {
  if (Math.abs(data[i] - r0) < 40 && Math.abs(data[i + 1] - g0) < 40 && Math.abs(data[i + 2] - b0) < 40) matching++;
}
return {connected, status, pixels: data.length / 4, matching};
"#;

/// Poll the canvas until `done` holds for its reading of `rgb`; on timeout fail with the last
/// reading and what the `logs` processes printed.
pub async fn canvas_until(
    browser: &Session,
    what: &str,
    rgb: [u8; 3],
    logs: &[&Running],
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = browser.execute(CANVAS_SCRIPT, vec![json!(rgb)]).await;
        if done(&v) {
            return v;
        }
        if Instant::now() > deadline {
            let outputs: Vec<String> = logs
                .iter()
                .map(|r| format!("--- {}:\n{}", r.name, r.output()))
                .collect();
            panic!(
                "timed out waiting for {what}; last canvas reading {v}\n{}",
                outputs.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether at least `share` (0 to 1) of the canvas matched.
pub fn covers(v: &Value, share: f64) -> bool {
    let pixels = v["pixels"].as_u64().unwrap_or(0);
    pixels > 0 && v["matching"].as_u64().unwrap_or(0) as f64 >= pixels as f64 * share
}
