//! How a test body's ending becomes pass or fail, the way libtest judges it, with
//! `#[should_panic]` and the panics of tasks nobody awaited.

use std::any::Any;

use super::ShouldPanic;
use crate::error::panic_message;

/// A body that returned while a task it started with `Node::spawn_async` had panicked unseen
/// counts as having panicked with that panic (so `#[should_panic]` sees it, too).
pub(super) fn with_unseen_panics(outcome: BodyOutcome) -> BodyOutcome {
    #[cfg(feature = "tokio")]
    if outcome.is_ok()
        && let Some(message) = crate::api::unseen_panic()
    {
        eprintln!("{message}");
        return Err(Box::new(message));
    }
    outcome
}

/// How a test body ended: returned (its `Result`, as text), or panicked (the payload).
pub(super) type BodyOutcome = Result<Result<(), String>, Box<dyn Any + Send>>;

/// Decides pass or fail from how the body ended and what `#[should_panic]` asked for.
pub(super) fn judge(outcome: BodyOutcome, should_panic: ShouldPanic) -> Result<(), String> {
    match (outcome, should_panic) {
        (Ok(Ok(())), ShouldPanic::No) => Ok(()),
        (Ok(Err(message)), ShouldPanic::No) => Err(message),
        (Err(_), ShouldPanic::No) => Err("the test panicked".into()),
        (Ok(_), _) => Err("note: test did not panic as expected".into()),
        (Err(_), ShouldPanic::Yes) => Ok(()),
        (Err(payload), ShouldPanic::WithMessage(expected)) => {
            let message = panic_message(&*payload);
            if message.contains(expected) {
                Ok(())
            } else {
                Err(format!(
                    "panic did not contain expected string\n      panic message: {message:?}\n \
                     expected substring: {expected:?}"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panicked(message: &'static str) -> Result<Result<(), String>, Box<dyn Any + Send>> {
        Err(Box::new(message))
    }

    #[test]
    fn verdicts_follow_libtest() {
        assert_eq!(judge(Ok(Ok(())), ShouldPanic::No), Ok(()));
        assert_eq!(
            judge(Ok(Err("Error: x".into())), ShouldPanic::No),
            Err("Error: x".into())
        );
        assert!(judge(panicked("boom"), ShouldPanic::No).is_err());
        assert_eq!(judge(panicked("boom"), ShouldPanic::Yes), Ok(()));
        assert!(judge(Ok(Ok(())), ShouldPanic::Yes).is_err());
        assert_eq!(
            judge(panicked("a boom b"), ShouldPanic::WithMessage("boom")),
            Ok(())
        );
        let wrong = judge(panicked("bang"), ShouldPanic::WithMessage("boom")).unwrap_err();
        assert!(
            wrong.contains("\"bang\"") && wrong.contains("\"boom\""),
            "{wrong}"
        );
    }
}
