//! What the project's suites and fixture binaries share: `support`.

pub mod support;
