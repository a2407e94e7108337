//! The video2mp3 stack on a local machine: moto stands in for AWS, the resources come from
//! `template.yaml`, the handlers run in-process (or, with [`sam`], as their built bootstraps
//! under `sam local`), and a small client drives it over HTTP as a user would (the demo and the
//! end-to-end tests).

pub mod client;
pub mod dlq;
pub mod faults;
pub mod functions;
pub mod gate;
pub mod http;
pub mod iam;
pub mod localstack;
pub mod moto;
pub mod pollers;
pub mod sam;
pub mod samples;
pub mod stack;
pub mod template;

pub use moto::Moto;
pub use stack::{SentEmail, Stack, StackOptions, link_in_emails, sent_emails};
