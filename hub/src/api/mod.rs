//! JupyterHub's REST API under `/hub/api`, one module per resource.

pub mod info;
