//! Times each loss (forward + backward, 8 x 1 x 512 x 512, CPU) the way
//! `scripts/bench_losses_peer.py` times PyTorch: 3 warm-up runs of every loss, then the
//! median of `RUNS` (default 15). Prints one JSON object `{name: seconds}`;
//! `scripts/bench_losses.sh` runs both.
//! Usage: loss_timing [THREADS=2] [RUNS=15]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

#[path = "../benches/support/mod.rs"]
mod support;

fn main() -> ptx_losses::Result<()> {
    let mut args = std::env::args().skip(1);
    let threads: i32 = args.next().map_or(2, |a| a.parse().expect("THREADS"));
    let runs: usize = args.next().map_or(15, |a| a.parse().expect("RUNS"));
    tch::set_num_threads(threads);
    let (logits, targets) = support::inputs();
    let cases = support::cases();
    // Warm every case up first, so that the first one timed does not pay for the allocator.
    for (_, loss) in &cases {
        for _ in 0..3 {
            support::step(loss, &logits, &targets)?;
        }
    }
    let mut out = Vec::new();
    for (name, loss) in &cases {
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                support::step(loss, &logits, &targets).map(|()| start.elapsed().as_secs_f64())
            })
            .collect::<Result<_, _>>()?;
        times.sort_by(f64::total_cmp);
        out.push(format!("\"{name}\": {:.6}", times[runs / 2]));
    }
    println!("{{{}}}", out.join(", "));
    Ok(())
}
