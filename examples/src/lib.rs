//! Example suites of netns-test: see `walkthroughs/` (the classic `ip netns` walkthroughs) and
//! `language/` (dual stack, roles, explicit addresses, topology files).
