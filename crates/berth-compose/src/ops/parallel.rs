//! Acting on many containers at once, at most `--parallel` at a time, as Compose does.

use std::future::Future;

use futures_util::stream::{self, StreamExt, TryStreamExt};

/// Runs `f` on every item, `limit` at a time (all at once when `None`); the first error wins.
pub async fn each<T, R, E, F, Fut>(limit: Option<usize>, items: Vec<T>, f: F) -> Result<Vec<R>, E>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    let n = limit.unwrap_or(items.len()).max(1);
    stream::iter(items.into_iter().map(f))
        .buffer_unordered(n)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn no_more_than_the_limit_run_at_once() {
        let (now, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let r: Result<Vec<u32>, ()> = each(Some(2), (0..6).collect(), |i| {
            let (now, peak) = (&now, &peak);
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(i)
            }
        })
        .await;
        assert_eq!(r.unwrap().len(), 6);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
