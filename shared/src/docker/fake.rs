//! An in-memory [`Engine`] for unit tests (feature `docker-fake`): images and containers in
//! maps, and switches for what a real engine does on its own (a container exits, is removed
//! behind the program's back, the engine cannot be reached). Named as a fake: it starts
//! nothing and answers no network request.

use super::{Call, ContainerSpec, ContainerState, Engine, ImageInfo, Published};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
struct State {
    images: HashMap<String, HashMap<String, String>>,
    containers: BTreeMap<String, ContainerState>,
    created: u64,
    unreachable: bool,
    /// Started containers exit at once with this code.
    exit_on_start: Option<i64>,
}

/// A fake engine. Cloning is not offered: share it in an `Arc`.
#[derive(Default)]
pub struct FakeEngine {
    state: Mutex<State>,
}

impl FakeEngine {
    pub fn new() -> FakeEngine {
        FakeEngine::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("no panics while held")
    }

    /// An image the engine has, with its labels.
    pub fn add_image(&self, name: &str, labels: &[(&str, &str)]) {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.lock().images.insert(name.to_owned(), labels);
    }

    /// A container the engine already has (e.g. left running by an earlier program).
    pub fn add_container(&self, state: ContainerState) {
        self.lock().containers.insert(state.id.clone(), state);
    }

    /// The container ends on its own with `code`.
    pub fn exit(&self, id: &str, code: i64) {
        if let Some(c) = self.lock().containers.get_mut(id) {
            c.running = false;
            c.exit_code = Some(code);
        }
    }

    /// The container is removed behind the program's back (`docker rm -f`).
    pub fn vanish(&self, id: &str) {
        self.lock().containers.remove(id);
    }

    /// Every call fails as if the engine could not be reached.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.lock().unreachable = unreachable;
    }

    /// Containers started from now on exit at once with `code`.
    pub fn exit_on_start(&self, code: Option<i64>) {
        self.lock().exit_on_start = code;
    }

    /// The containers the engine has now.
    pub fn containers(&self) -> Vec<ContainerState> {
        self.lock().containers.values().cloned().collect()
    }

    fn reachable(&self) -> Result<std::sync::MutexGuard<'_, State>, Call> {
        let state = self.lock();
        if state.unreachable {
            Err(Call::Transport("the fake engine is switched off".into()))
        } else {
            Ok(state)
        }
    }
}

fn no_such(what: &str) -> Call {
    Call::Docker(404, format!("No such container: {what}"))
}

#[async_trait::async_trait]
impl Engine for FakeEngine {
    async fn image(&self, image: &str) -> Result<Option<ImageInfo>, Call> {
        Ok(self.reachable()?.images.get(image).map(|labels| ImageInfo {
            labels: labels.clone(),
            cmd: None,
        }))
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, Call> {
        let mut state = self.reachable()?;
        if !state.images.contains_key(&spec.image) {
            return Err(Call::Docker(404, format!("No such image: {}", spec.image)));
        }
        if state.containers.values().any(|c| c.name == spec.name) {
            return Err(Call::Docker(409, format!("name {} in use", spec.name)));
        }
        state.created += 1;
        let id = format!("fake{:060}", state.created);
        let ports = spec
            .port
            .zip(spec.publish_on.clone())
            .map(|(container, host_ip)| Published {
                container,
                host_ip,
                host: 40000 + state.created as u16,
            })
            .into_iter()
            .collect();
        let container = ContainerState {
            id: id.clone(),
            name: spec.name.clone(),
            running: false,
            exit_code: None,
            labels: spec.labels.clone(),
            ports,
            created: Some(1_700_000_000),
            ..ContainerState::default()
        };
        state.containers.insert(id.clone(), container);
        Ok(id)
    }

    async fn start(&self, id: &str) -> Result<(), Call> {
        let mut state = self.reachable()?;
        let exit = state.exit_on_start;
        let c = state.containers.get_mut(id).ok_or_else(|| no_such(id))?;
        c.running = exit.is_none();
        c.exit_code = exit;
        Ok(())
    }

    async fn inspect(&self, id: &str) -> Result<Option<ContainerState>, Call> {
        // By id or by name, as the engine answers.
        let state = self.reachable()?;
        Ok(state
            .containers
            .values()
            .find(|c| c.id == id || c.name == id)
            .cloned())
    }

    async fn stop(&self, id: &str, _grace: Duration) -> Result<(), Call> {
        if let Some(c) = self.reachable()?.containers.get_mut(id) {
            c.running = false;
            c.exit_code.get_or_insert(0);
        }
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), Call> {
        self.reachable()?.containers.remove(id);
        Ok(())
    }

    async fn list(&self, labels: &[(String, String)]) -> Result<Vec<ContainerState>, Call> {
        Ok(self
            .reachable()?
            .containers
            .values()
            .filter(|c| labels.iter().all(|(k, v)| c.labels.get(k) == Some(v)))
            .cloned()
            .collect())
    }

    async fn logs(&self, _id: &str, _lines: usize) -> Result<String, Call> {
        self.reachable().map(|_| String::new())
    }
}
