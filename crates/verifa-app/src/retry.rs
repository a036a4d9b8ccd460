//! Read-modify-write under revision fences: an attempt reads the row, computes the change and
//! writes it fenced on the revision it read; when another writer got there first the store
//! answers `Conflict` and the attempt runs again on the fresh row. Nothing is lost, and a change
//! that the fresh row no longer allows is refused by the attempt itself.
//!
//! [`retrying!`] takes the attempt as an expression (usually `async { … }.await`), so the attempt
//! borrows what it needs without closures (async closures' futures are not `Send` under axum).

use crate::error::AppError;
use verifa_ports::RepoError;

/// How many times an attempt runs before the caller is told to retry later. Every round of a
/// race has one winner, so this many writers of one row at once all land; a write that also
/// appends to the audit chain holds its row a little longer, which makes rounds fuller.
pub(crate) const ATTEMPTS: usize = 32;

/// What one attempt came to.
pub(crate) enum Attempt<T> {
    /// Written (or nothing to write): the result.
    Done(T),
    /// The fenced write lost a race: read again and retry.
    Again,
}

/// Turns a fenced write's outcome into an attempt's: `Conflict` means run again.
pub(crate) fn written<T>(outcome: Result<(), RepoError>, value: T) -> Result<Attempt<T>, AppError> {
    match outcome {
        Ok(()) => Ok(Attempt::Done(value)),
        Err(RepoError::Conflict(_)) => Ok(Attempt::Again),
        Err(e) => Err(e.into()),
    }
}

/// The error when every attempt lost its race.
pub(crate) fn exhausted(what: &str) -> AppError {
    AppError::Conflict(format!(
        "{what} is being changed by many requests at once; retry shortly"
    ))
}

/// Runs `$attempt` (a `Result<Attempt<T>, AppError>` expression) until it is done or fails, at
/// most [`ATTEMPTS`] times; evaluates to `Result<T, AppError>`.
macro_rules! retrying {
    ($what:expr, $attempt:expr) => {{
        let mut outcome = None;
        for _ in 0..$crate::retry::ATTEMPTS {
            match $attempt {
                Ok($crate::retry::Attempt::Done(value)) => {
                    outcome = Some(Ok(value));
                    break;
                }
                Ok($crate::retry::Attempt::Again) => $crate::retry::yield_once().await,
                Err(e) => {
                    outcome = Some(Err(e));
                    break;
                }
            }
        }
        outcome.unwrap_or_else(|| Err($crate::retry::exhausted($what)))
    }};
}
pub(crate) use retrying;

/// Yields to the executor once, so the writer that won finishes before the next read (the use
/// cases stay free of a runtime dependency).
pub(crate) async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_run_again_and_other_errors_stop() {
        assert!(matches!(written(Ok(()), 1), Ok(Attempt::Done(1))));
        assert!(matches!(
            written(Err(RepoError::Conflict("x".into())), 1),
            Ok(Attempt::Again)
        ));
        assert!(written(Err(RepoError::NotFound), 1).is_err());
    }
}
