//! Accounts and how users prove who they are.

pub mod password_links;
