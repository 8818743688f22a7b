//! Collects every error of one expansion, so the user sees them all at once.

/// Errors gathered while reading the attribute and the function.
#[derive(Default)]
pub(crate) struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    /// Records one more error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// Keeps the value of `result`, or records its error.
    pub(crate) fn keep<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// Every recorded error, or `fallback()` when there is none.
    pub(crate) fn or_else(self, fallback: fn() -> syn::Error) -> syn::Error {
        self.first.unwrap_or_else(fallback)
    }

    /// `result` when nothing was recorded, else every recorded error (and `result`'s).
    pub(crate) fn finish<T>(self, result: syn::Result<T>) -> syn::Result<T> {
        match (self.first, result) {
            (None, result) => result,
            (Some(first), Ok(_)) => Err(first),
            (Some(mut first), Err(error)) => {
                first.combine(error);
                Err(first)
            }
        }
    }
}

/// Both values, or the errors of both.
pub(crate) fn both<A, B>(a: syn::Result<A>, b: syn::Result<B>) -> syn::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => Err(error),
        (Err(mut error), Err(other)) => {
            error.combine(other);
            Err(error)
        }
    }
}
