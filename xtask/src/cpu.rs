//! The whole machine's busy CPU time over a run, kernel workers included: what a run of many
//! tests costs the cores, beside how long it took.
//!
//! A network namespace is torn down after its last process exits, by a kernel worker
//! (`cleanup_net`), so a run's CPU time is not that of its processes alone: it is read from
//! `/proc/stat` (every CPU, every task) before the run and again once the teardown of its last
//! namespaces has had time to end, less what the machine spends busy while nothing runs.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How long after a run its last namespaces' teardown is given before the second reading.
const SETTLE: Duration = Duration::from_millis(300);

/// The unit of `/proc/stat`: `USER_HZ`, 100 per second on every architecture this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// What the machine spends busy while nothing of ours runs, per second of wall-clock time.
pub(crate) struct Baseline {
    busy_per_second: f64,
}

impl Baseline {
    /// Reads the machine's busy time over a second of sleep.
    pub(crate) fn measure() -> Result<Self> {
        let before = busy_ticks()?;
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs(1));
        let busy = (busy_ticks()? - before) as f64 / TICKS_PER_SECOND;
        Ok(Baseline {
            busy_per_second: busy / start.elapsed().as_secs_f64(),
        })
    }

    /// Runs `run`, and returns what it returned, the wall-clock time it took, and the CPU time
    /// the machine spent on it (teardown included, the baseline taken out).
    pub(crate) fn time<T>(
        &self,
        run: impl FnOnce() -> Result<T>,
    ) -> Result<(T, Duration, Duration)> {
        let before = busy_ticks()?;
        let start = Instant::now();
        let value = run()?;
        let wall = start.elapsed();
        std::thread::sleep(SETTLE);
        let span = start.elapsed().as_secs_f64();
        let busy = (busy_ticks()? - before) as f64 / TICKS_PER_SECOND;
        let cpu = (busy - self.busy_per_second * span).max(0.0);
        Ok((value, wall, Duration::from_secs_f64(cpu)))
    }
}

/// The busy ticks of all CPUs together since boot: everything but idle and I/O wait.
fn busy_ticks() -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = stat.lines().next().context("/proc/stat is empty")?;
    // cpu  user nice system idle iowait irq softirq steal (guest time is inside user)
    let fields: Vec<u64> = (line.split_whitespace().skip(1).take(8))
        .map(|field| {
            field
                .parse()
                .context("a field of /proc/stat is not a number")
        })
        .collect::<Result<_>>()?;
    anyhow::ensure!(fields.len() == 8, "/proc/stat's cpu line is short: {line}");
    Ok(fields.iter().sum::<u64>() - fields[3] - fields[4])
}

/// The number of CPUs this process may run on.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
