//! What the training examples share, apart from the training step itself (each example spells
//! that out): command-line arguments, the per-epoch progress bar and figures ([`EpochMeter`],
//! [`Epoch`]), the confusion matrix, saving the weights, and the training-curve SVG.
#![allow(dead_code, reason = "each example uses part of this module")]

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use typed_cnn::eval::{ConfusionMatrix, argmax};
use typed_cnn::prelude::*;
use typed_cnn::typenum::Unsigned;

/// The command line every training example accepts.
pub struct Args {
    /// `--epochs N`
    pub epochs: usize,
    /// `--data DIR` (or the first positional argument)
    pub data: PathBuf,
    /// `--seed S`
    pub seed: u64,
    /// `--out DIR`: where the training curve and the weights go.
    pub out: PathBuf,
    /// `--threads N` (default: `TYPED_CNN_THREADS`, else every core); results do not depend on it.
    pub threads: usize,
}

impl Args {
    /// Parses `std::env::args`, with the example's defaults; prints usage and exits on `--help`
    /// or on a bad argument.
    pub fn parse(name: &str, default_epochs: usize, default_data: &str) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut args = Args {
            epochs: default_epochs,
            data: root.join(default_data),
            seed: 0,
            out: root.join("target").join("examples-out"),
            threads: std::env::var("TYPED_CNN_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        };
        let usage = format!(
            "usage: cargo run --release --example {name} -- [--epochs N] [--data DIR] [--seed S] \
             [--out DIR] [--threads N]\n  defaults: --epochs {default_epochs} --data {} --seed 0 --out {} --threads {}",
            args.data.display(),
            args.out.display(),
            args.threads
        );
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let mut value = |flag: &str| {
                it.next().unwrap_or_else(|| fail(&usage, &format!("{flag} needs a value")))
            };
            match arg.as_str() {
                "--epochs" => args.epochs = number(&usage, "--epochs", &value("--epochs")),
                "--seed" => args.seed = number(&usage, "--seed", &value("--seed")),
                "--threads" => args.threads = number(&usage, "--threads", &value("--threads")),
                "--data" => args.data = value("--data").into(),
                "--out" => args.out = value("--out").into(),
                "-h" | "--help" => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                s if !s.starts_with('-') => args.data = s.into(),
                s => fail(&usage, &format!("unknown argument `{s}`")),
            }
        }
        typed_cnn::set_threads(args.threads);
        args
    }
}

fn number<T: std::str::FromStr>(usage: &str, flag: &str, s: &str) -> T {
    s.parse().unwrap_or_else(|_| fail(usage, &format!("{flag} takes a number, got `{s}`")))
}

fn fail(usage: &str, msg: &str) -> ! {
    eprintln!("error: {msg}\n{usage}");
    std::process::exit(2)
}

/// Prints a loading error (it names the file) with a hint, and exits.
pub fn exit_with(err: impl fmt::Display) -> ! {
    eprintln!("error: {err}\n(pass the data directory with --data DIR)");
    std::process::exit(1)
}

/// One epoch's figures.
#[derive(Clone, Copy, Debug)]
pub struct Epoch {
    pub epoch: usize,
    pub epochs: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Accuracy on the real rows of the epoch's training batches, as they were trained on.
    pub train_acc: f64,
    /// Accuracy on the test set after the epoch (eval mode), or the measure `test_label` names.
    pub test_acc: f64,
    /// What `test_acc` is: `"test acc"`, or another measure such as `"test mIoU"`.
    pub test_label: &'static str,
    /// Wall time of the epoch: training and the test evaluation.
    pub secs: f64,
}

impl fmt::Display for Epoch {
    /// `epoch 3/5: loss 0.0642  train acc 98.10%  test acc 98.21%  (6.4 s)`: tools parse this.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}/{}: loss {:.4}  train acc {:.2}%  {} {:.2}%  ({:.1} s)",
            self.epoch,
            self.epochs,
            self.loss,
            100.0 * self.train_acc,
            self.test_label,
            100.0 * self.test_acc,
            self.secs
        )
    }
}

/// One epoch's bookkeeping, kept out of the examples' training loops: the clock, the progress
/// bar and the running loss and accuracy. It only watches the step; it takes no part in it.
pub struct EpochMeter {
    epoch: usize,
    epochs: usize,
    start: Instant,
    bar: ProgressBar,
    loss_sum: f64,
    steps: usize,
    correct: usize,
    seen: usize,
}

impl EpochMeter {
    /// Starts the clock and the progress bar of epoch `epoch` (from 1) of `epochs`, `batches`
    /// steps long.
    pub fn start(epoch: usize, epochs: usize, batches: usize) -> Self {
        Self {
            epoch,
            epochs,
            start: Instant::now(),
            bar: progress(batches as u64, epoch, epochs),
            loss_sum: 0.0,
            steps: 0,
            correct: 0,
            seen: 0,
        }
    }

    /// Counts one step: its loss, and its accuracy on the first `len` rows (the real samples;
    /// the rest of an epoch's last batch repeats earlier ones).
    ///
    /// The logits are `T2<f32, N, F>` rather than `Tensor2<N, CLASSES>`: a signature with
    /// `Num<CLASSES>` in it is read before the call's arguments tell the compiler `CLASSES`,
    /// and then costs a pass over the whole size table (see `typed_cnn::loss::ClassLabels`).
    pub fn record<const N: usize, F: Unsigned, const CLASSES: usize>(
        &mut self,
        loss: f32,
        logits: &T2<f32, N, F>,
        labels: &Labels<N, CLASSES>,
        len: usize,
    ) {
        let truth = &labels.as_slice()[..len];
        let correct = argmax(logits).iter().zip(truth).filter(|(p, t)| p == t).count();
        self.record_counts(loss, correct, len);
    }

    /// Counts one step from its loss and `correct` right predictions out of `seen` (for outputs
    /// that are not one class per row, such as a segmentation's pixels).
    pub fn record_counts(&mut self, loss: f32, correct: usize, seen: usize) {
        self.correct += correct;
        self.seen += seen;
        self.loss_sum += f64::from(loss);
        self.steps += 1;
        self.bar.inc(1);
        if self.steps.is_multiple_of(20) {
            self.bar.set_message(format!("loss {:.4}", self.loss_sum / self.steps as f64));
        }
    }

    /// Clears the progress bar, prints `err` (a [`check_finite`](typed_cnn::finite::check_finite)
    /// error) and exits.
    pub fn exit_with(&self, err: impl fmt::Display) -> ! {
        self.bar.finish_and_clear();
        eprintln!("error: {err}");
        std::process::exit(1)
    }

    /// Clears the progress bar: the epoch's training is done.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }

    /// The epoch's figures, with `test_acc` and the time since [`EpochMeter::start`].
    pub fn finish(self, test_acc: f64) -> Epoch {
        self.finish_as(test_acc, "test acc")
    }

    /// [`EpochMeter::finish`] with a test measure other than accuracy, named `test_label`.
    pub fn finish_as(self, test_acc: f64, test_label: &'static str) -> Epoch {
        Epoch {
            epoch: self.epoch,
            epochs: self.epochs,
            loss: self.loss_sum / self.steps.max(1) as f64,
            train_acc: self.correct as f64 / self.seen.max(1) as f64,
            test_acc,
            test_label,
            secs: self.start.elapsed().as_secs_f64(),
        }
    }
}

/// A progress bar on stderr (indicatif draws nothing when stderr is not a terminal).
fn progress(len: u64, epoch: usize, epochs: usize) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} batches  {msg}  ({elapsed}, eta {eta})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(format!("epoch {epoch}/{epochs}"));
    bar
}

/// Prints the test set's confusion matrix, one row per true digit.
pub fn print_confusion<const CLASSES: usize>(cm: &ConfusionMatrix<CLASSES>) {
    println!("\ntest set, row = true digit, column = predicted:\n{cm}");
}

/// Saves `net` as `out/file` (safetensors) and prints where, with the size; an error is
/// printed, not fatal. Returns whether it was saved.
pub fn save_weights<M: Params<f32>>(out: &Path, file: &str, net: &M) -> bool {
    let path = out.join(file);
    let saved = std::fs::create_dir_all(out)
        .map_err(|e| e.to_string())
        .and_then(|()| typed_cnn::weights::save(net, &path).map_err(|e| e.to_string()));
    match saved {
        Ok(()) => {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            println!("weights: {} ({bytes} bytes)", path.display());
            true
        }
        Err(e) => {
            eprintln!("could not save the weights: {e}");
            false
        }
    }
}

/// Writes the training curve as `out/file` and prints where (or the error).
pub fn save_curve(out: &Path, file: &str, title: &str, history: &[Epoch]) {
    let curve = out.join(file);
    match write_curve(&curve, title, history) {
        Ok(()) => println!("training curve: {}", curve.display()),
        Err(e) => eprintln!("could not write {}: {e}", curve.display()),
    }
}

/// Writes the training curve (loss, train and test accuracy per epoch) as an SVG file.
pub fn write_curve(path: &Path, title: &str, history: &[Epoch]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, curve_svg(title, history))
}

fn curve_svg(title: &str, history: &[Epoch]) -> String {
    let (w, h, left, right, top, bottom) = (640.0, 360.0, 60.0, 60.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let n = history.len().max(2) - 1;
    let x = |i: usize| left + pw * i as f64 / n as f64;
    let max_loss = history.iter().map(|e| e.loss).fold(1e-9, f64::max);
    let min_acc = history.iter().map(|e| e.train_acc.min(e.test_acc)).fold(1.0, f64::min);
    let acc_lo = (min_acc * 10.0).floor() / 10.0; // a round lower bound
    let y_loss = |v: f64| top + ph * (1.0 - v / max_loss);
    let y_acc = |v: f64| top + ph * (1.0 - (v - acc_lo) / (1.0 - acc_lo).max(1e-9));
    let line = |f: &dyn Fn(&Epoch) -> f64, y: &dyn Fn(f64) -> f64| {
        history
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{:.1},{:.1}", x(i), y(f(e))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{cx}" y="20" text-anchor="middle" font-size="14">{title}</text>
<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>
<text x="{left}" y="{yb}" >epoch 1</text><text x="{xr}" y="{yb}" text-anchor="end">epoch {last}</text>
<text x="{lx}" y="{top}" text-anchor="end" fill="#c33">{max_loss:.3}</text>
<text x="{lx}" y="{bot}" text-anchor="end" fill="#c33">0</text>
<text x="{rx}" y="{top}" fill="#36c">100%</text>
<text x="{rx}" y="{bot}" fill="#36c">{lo:.0}%</text>
"##,
        cx = w / 2.0,
        yb = h - bottom + 18.0,
        xr = left + pw,
        last = history.len(),
        lx = left - 5.0,
        rx = left + pw + 5.0,
        bot = top + ph,
        lo = 100.0 * acc_lo,
    );
    for (color, label, points) in [
        ("#c33", "train loss", line(&|e| e.loss, &y_loss)),
        ("#393", "train acc", line(&|e| e.train_acc, &y_acc)),
        (
            "#36c",
            history.first().map_or("test acc", |e| e.test_label),
            line(&|e| e.test_acc, &y_acc),
        ),
    ] {
        s += &format!(
            "<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n"
        );
        s += &format!(
            "<text x=\"{:.0}\" y=\"{:.0}\" fill=\"{color}\">{label}</text>\n",
            left + 10.0
                + 110.0
                    * ["#c33", "#393", "#36c"].iter().position(|c| *c == color).unwrap_or(0) as f64,
            h - 8.0
        );
    }
    s + "</svg>\n"
}
