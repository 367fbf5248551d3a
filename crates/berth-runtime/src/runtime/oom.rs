//! The OOM score of a container's processes (`process.oomScoreAdj`), as the monitor sets it.

use super::ProcessError;

const OOM_SCORE_ADJ: &str = "/proc/self/oom_score_adj";

/// The caller's OOM score, written back when dropped: libcontainer writes the container's into
/// the calling process before it forks, and the monitor should not die first in its stead.
/// Setting it first also tells why a score is refused, for any runtime.
pub(crate) struct KeepOomScore(Option<String>);

impl KeepOomScore {
    /// Keeps the caller's score, having set `score` if given: the kernel refuses a score below
    /// the caller's floor without CAP_SYS_RESOURCE, and libcontainer would only say "io error".
    pub(crate) fn set(score: Option<i32>) -> Result<KeepOomScore, ProcessError> {
        let own = std::fs::read_to_string(OOM_SCORE_ADJ).ok();
        let keep = KeepOomScore(own.clone());
        let Some(score) = score else {
            return Ok(keep);
        };
        match std::fs::write(OOM_SCORE_ADJ, score.to_string()) {
            Ok(()) => Ok(keep),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                Err(ProcessError::runtime(format!(
                    "cannot set the OOM score adjustment to {score}: lowering it below the \
                     daemon's ({}) needs CAP_SYS_RESOURCE, which the daemon does not hold",
                    own.as_deref().unwrap_or("?").trim()
                )))
            }
            Err(e) => Err(ProcessError::runtime(format!(
                "writing {OOM_SCORE_ADJ}: {e}"
            ))),
        }
    }
}

impl Drop for KeepOomScore {
    fn drop(&mut self) {
        // Always allowed: the old value was already at or above the floor the kernel keeps.
        if let Some(own) = &self.0 {
            let _ = std::fs::write(OOM_SCORE_ADJ, own.trim());
        }
    }
}
