//! Example suites of netns-test: see `walkthroughs/`.
