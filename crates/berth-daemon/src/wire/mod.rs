//! Docker's wire types meet berth's domain types here, once per request: a create or exec body
//! becomes a [`Spec`](crate::containers::Spec) or [`ExecSpec`](crate::containers::ExecSpec)
//! (with Docker's checks and messages, and berth's refusals of what it cannot honour), and a
//! record becomes Docker's `Config` and `HostConfig` again for inspect.

mod checks;
pub mod commit;
pub mod create;
mod devices;
pub mod exec;
pub mod health;
pub mod inspect;
pub mod mounts;
mod namespaces;
pub mod net;
mod security;
