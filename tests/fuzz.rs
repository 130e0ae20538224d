//! A stable-Rust fuzz suite for the three file parsers: IDX (MNIST), the digits CSV and
//! safetensors weight files.
//!
//! Each test mutates small valid files built here (bit flips, byte sets, truncation, splices
//! within and across files, insertion, deletion and duplication of ranges, and format-specific
//! mutations: length and count fields set to extremes, numbers of a safetensors header, CSV
//! fields), deterministically from a SplitMix64 seeded per mutation, and asserts for every
//! mutation:
//!
//! - **no panic**: each parse runs under `catch_unwind`; a panic fails with the mutation's index
//!   (rerun one with `FUZZ_ONLY=<index>`) and the steps that built it;
//! - **no allocation over a bound**: a counting global allocator records the largest single
//!   request during the parse. The bound is 64 KiB + 8 × the input's length (the parsers turn
//!   each input byte into at most one 4-byte `f32`, and a growing `Vec` may double that), and
//!   for gzip'd input, 8 × the length the reference inflater saw instead (what the stream really
//!   holds, valid or not). For safetensors the factor is 32 (`serde_json` buffers a header
//!   through `serde`'s `Content`, 32 bytes a JSON value for values as short as `0,`). A length
//!   or count field is never trusted: `u32::MAX` images would be 3 GB;
//! - **`Err` exactly where the file is invalid**, decided by an independent reference checker
//!   written here from the formats' specifications (see `reference_*`), and when both accept,
//!   the same decoded values (bit for bit);
//! - every error names the file, and a `DataError` its field, expected and found value.
//!
//! Run with `cargo test --release --test fuzz -- --nocapture` to see per format the counts of
//! mutations, `Ok`s and `Err`s, the distinct error kinds and the largest allocations.

#![allow(unsafe_code)] // the counting `GlobalAlloc` in `fuzz_support`

mod fuzz_support;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::time::Instant;

use fuzz_support::{
    Json, Rng, Stats, extreme, generic, gzip, measured, normalized, parse_json, reference_inflate,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use typed_cnn::data::{DataError, MAX_DECOMPRESSED, Mnist, parse_digits_csv};
use typed_cnn::data::{parse_idx_images, parse_idx_labels};
use typed_cnn::prelude::*;
use typed_cnn::weights::{self, Entry, EntryData, StateDict, WeightsError};

const IDX_MUTATIONS: u64 = 200_000;
const CSV_MUTATIONS: u64 = 150_000;
const SAFETENSORS_MUTATIONS: u64 = 150_000;

/// Slack in every allocation bound: small fixed buffers (error messages, hash maps, gzip state).
const SLACK: usize = 64 << 10;

/// The indices to run: all of `0..n`, or only `FUZZ_ONLY`'s.
fn indices(n: u64) -> Vec<u64> {
    match std::env::var("FUZZ_ONLY") {
        Ok(i) => vec![i.parse().expect("FUZZ_ONLY=<mutation index>")],
        Err(_) => (0..n).collect(),
    }
}

/// One mutation: where it came from, for failure messages.
struct Case {
    format: &'static str,
    index: u64,
    steps: Vec<String>,
}

impl Case {
    #[track_caller]
    fn fail(&self, what: impl Display) -> ! {
        panic!(
            "{} mutation #{} (rerun with FUZZ_ONLY={}): {what}\n  steps: {:#?}",
            self.format, self.index, self.index, self.steps
        )
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic>".into())
}

/// How one parse went against the reference.
struct Outcome<T, E> {
    result: std::thread::Result<Result<T, E>>,
    largest: usize,
}

/// Checks one parse: no panic, allocation within `bound`, `Ok` exactly when the reference
/// accepts with `same` values, and a well-formed error (`kind` returns its group or a problem).
#[allow(clippy::too_many_arguments)]
fn judge<T, E: Display, R>(
    case: &Case,
    stats: &mut Stats,
    outcome: Outcome<T, E>,
    bound: usize,
    input_len: usize,
    gzipped: bool,
    reference: Option<R>,
    same: impl FnOnce(&T, &R) -> bool,
    kind: impl FnOnce(&E) -> Result<String, String>,
) {
    let result =
        outcome.result.unwrap_or_else(|p| case.fail(format!("panic: {}", panic_text(&*p))));
    let largest = outcome.largest;
    if largest > bound {
        case.fail(format!("allocated {largest} bytes at once, over the bound of {bound}"));
    }
    if gzipped {
        stats.largest_gzip = stats.largest_gzip.max(largest);
    } else {
        stats.largest_raw = stats.largest_raw.max(largest);
        if input_len >= 1024 {
            stats.largest_ratio = stats.largest_ratio.max(largest as f64 / input_len as f64);
        }
    }
    match (result, reference) {
        (Ok(t), Some(r)) => {
            if !same(&t, &r) {
                case.fail("Ok, but the values differ from the reference decoder's");
            }
            stats.record(Ok(()));
        }
        (Ok(_), None) => case.fail("Ok on a file that the reference checker rejects"),
        (Err(e), Some(_)) => case.fail(format!("Err on a file the reference accepts: {e}")),
        (Err(e), None) => {
            let kind = kind(&e).unwrap_or_else(|problem| case.fail(problem));
            stats.record(Err(kind));
        }
    }
}

/// A `DataError`'s group (its field, numbers as `N`), after checking that it names `file` (one of
/// `files`), the field, the expected and the found value.
fn data_error_kind(err: &DataError, files: &[&str]) -> Result<String, String> {
    match err {
        DataError::Invalid { file, field, expected, found } => {
            let msg = err.to_string();
            if !files.contains(&file.as_str()) {
                return Err(format!("error names file {file:?}, not one of {files:?}: {msg}"));
            }
            if field.is_empty() || expected.is_empty() || found.is_empty() {
                return Err(format!("error without a field, expected or found value: {msg}"));
            }
            if msg != format!("{file}: {field}: expected {expected}, found {found}") {
                return Err(format!("message not in the file: field: expected, found form: {msg}"));
            }
            Ok(normalized(field))
        }
        other => Err(format!("unexpected error variant: {other:?}")),
    }
}

/// The allocation bound for raw input of `len` bytes, or gzip'd input that inflates to
/// `inflated` bytes.
fn bound(len: usize, inflated: usize, factor: usize) -> usize {
    SLACK + factor * len.max(inflated)
}

// =============================================================================================
// IDX

const IMAGES_FILE: &str = "fuzz-images.idx";
const LABELS_FILE: &str = "fuzz-labels.idx";

fn idx_images(count: u32, pixels: &[u8]) -> Vec<u8> {
    let header = [0x803, count, 28, 28].map(u32::to_be_bytes).concat();
    [&header[..], pixels].concat()
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let header = [0x801, labels.len() as u32].map(u32::to_be_bytes).concat();
    [&header[..], labels].concat()
}

fn be_u32(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?)))
}

/// The reference IDX image check: magic 0x803, 28 rows, 28 columns, and exactly count·784 bytes
/// after the 16-byte header. Returns the pixel bytes.
fn reference_images(b: &[u8]) -> Option<&[u8]> {
    let ok = be_u32(b, 0)? == 0x803 && be_u32(b, 8)? == 28 && be_u32(b, 12)? == 28;
    (ok && (b.len() - 16) as u64 == be_u32(b, 4)? * 784).then(|| &b[16..])
}

/// The reference IDX label check: magic 0x801, exactly count bytes after the 8-byte header, each
/// below 10.
fn reference_labels(b: &[u8]) -> Option<&[u8]> {
    let ok = be_u32(b, 0)? == 0x801 && (b.len() - 8) as u64 == be_u32(b, 4)?;
    (ok && b[8..].iter().all(|&l| l < 10)).then(|| &b[8..])
}

fn same_pixels(parsed: &[f32], reference: &[u8]) -> bool {
    parsed.len() == reference.len()
        && parsed
            .iter()
            .zip(reference)
            .all(|(&p, &r)| p.to_bits() == (f32::from(r) / 255.0).to_bits())
}

/// Mutates an IDX file whose u32 header fields are at `fields` (count at 4), `item` bytes per
/// counted element: 1 to 3 steps, each a generic mutation or a field set to an extreme value
/// (half the time with the data resized to match a new count).
fn mutate_idx(
    rng: &mut Rng,
    v: &mut Vec<u8>,
    fields: &[usize],
    item: usize,
    donors: &[&[u8]],
    steps: &mut Vec<String>,
) {
    for _ in 0..rng.range(1, 3) {
        if rng.one_in(3) {
            let at = rng.pick(fields);
            let truth = be_u32(v, at).unwrap_or(0);
            let value = extreme(rng, truth, u64::from(u32::MAX)) as u32;
            if v.len() >= at + 4 {
                v[at..at + 4].copy_from_slice(&value.to_be_bytes());
            }
            let header = if item == 1 { 8 } else { 16 };
            let resize = at == 4 && rng.one_in(2) && (value as usize) * item <= 64 << 10;
            if resize {
                let labels = item == 1;
                v.resize_with(header + value as usize * item, || {
                    if labels { rng.below(11) as u8 } else { rng.byte() }
                });
            }
            steps.push(format!("field at {at} = {value}{}", if resize { ", resized" } else { "" }));
        } else {
            steps.push(generic(rng, v, 0, v.len(), donors));
        }
    }
}

#[test]
fn fuzz_idx() {
    let start = Instant::now();
    let mut base_rng = Rng::for_mutation(0x1D8, u64::MAX);
    let pixels: Vec<u8> = (0..3 * 784).map(|_| base_rng.byte()).collect();
    let images = idx_images(3, &pixels);
    let labels = idx_labels(&[3, 0, 9]);
    let (images_gz, labels_gz) = (gzip(&images), gzip(&labels));
    let donors: [&[u8]; 4] = [&images, &labels, &images_gz, &labels_gz];
    let files = [IMAGES_FILE, LABELS_FILE];
    let mut stats = Stats::default();

    for index in indices(IDX_MUTATIONS) {
        let mut rng = Rng::for_mutation(0x1D8, index);
        let mut case = Case { format: "IDX", index, steps: Vec::new() };
        let steps = &mut case.steps;
        let mode = rng.below(6);
        steps.push(format!("mode {mode}"));
        if mode < 2 {
            // One file, raw, through its own parser.
            let labels_only = mode == 1;
            let mut v = if labels_only { labels.clone() } else { images.clone() };
            let (fields, item): (&[usize], usize) =
                if labels_only { (&[0, 4], 1) } else { (&[0, 4, 8, 12], 784) };
            mutate_idx(&mut rng, &mut v, fields, item, &donors, steps);
            let b = bound(v.len(), 0, 8);
            if labels_only {
                let (result, largest) = measured(|| parse_idx_labels::<10>(&v, LABELS_FILE));
                let outcome = Outcome { result, largest };
                let reference = reference_labels(&v);
                let kind = |e: &DataError| data_error_kind(e, &files);
                judge(
                    &case,
                    &mut stats,
                    outcome,
                    b,
                    v.len(),
                    false,
                    reference,
                    |p, r| p == r,
                    kind,
                );
            } else {
                let (result, largest) = measured(|| parse_idx_images::<28, 28>(&v, IMAGES_FILE));
                let outcome = Outcome { result, largest };
                let reference = reference_images(&v);
                let kind = |e: &DataError| data_error_kind(e, &files);
                let same = |p: &Vec<f32>, r: &&[u8]| same_pixels(p, r);
                judge(&case, &mut stats, outcome, b, v.len(), false, reference, same, kind);
            }
            continue;
        }
        // A pair through `Mnist::parse`, raw or gzip'd.
        let (mut i, mut l) = (images.clone(), labels.clone());
        let gz = match mode {
            2 => {
                // Raw; one or both files mutated.
                let which = rng.below(3);
                if which != 1 {
                    mutate_idx(&mut rng, &mut i, &[0, 4, 8, 12], 784, &donors, steps);
                }
                if which != 0 {
                    mutate_idx(&mut rng, &mut l, &[0, 4], 1, &donors, steps);
                }
                false
            }
            3 => {
                // Mutated, then gzip'd (each file gzip'd or not).
                let which = rng.below(3);
                if which != 1 {
                    mutate_idx(&mut rng, &mut i, &[0, 4, 8, 12], 784, &donors, steps);
                }
                if which != 0 {
                    mutate_idx(&mut rng, &mut l, &[0, 4], 1, &donors, steps);
                }
                let (gi, gl) = (rng.below(4) != 0, rng.below(4) != 0);
                steps.push(format!("gzip images {gi}, labels {gl}"));
                if gi {
                    i = gzip(&i);
                }
                if gl {
                    l = gzip(&l);
                }
                gi || gl
            }
            4 => {
                // Gzip'd, then the compressed bytes mutated; sometimes split into two members
                // or followed by other bytes.
                let (mut gi, mut gl) = (images_gz.clone(), labels_gz.clone());
                let target = if rng.one_in(2) { &mut gi } else { &mut gl };
                match rng.below(4) {
                    0 => {
                        let raw = if target == &images_gz { &images } else { &labels };
                        let cut = rng.below(raw.len() + 1);
                        *target = [gzip(&raw[..cut]), gzip(&raw[cut..])].concat();
                        steps.push(format!("two gzip members split at {cut}"));
                    }
                    1 => {
                        let extra: Vec<u8> = (0..rng.range(1, 20)).map(|_| rng.byte()).collect();
                        steps.push(format!("append {} bytes", extra.len()));
                        target.extend(extra);
                    }
                    _ => {
                        for _ in 0..rng.range(1, 3) {
                            steps.push(generic(&mut rng, target, 0, usize::MAX, &donors));
                        }
                    }
                }
                (i, l) = (gi, gl);
                true
            }
            _ => {
                // Both files resized consistently to a new count (valid), then perhaps one step.
                let n = rng.range(0, 6);
                let px: Vec<u8> = (0..n * 784).map(|_| rng.byte()).collect();
                let ls: Vec<u8> = (0..n).map(|_| rng.below(10) as u8).collect();
                (i, l) = (idx_images(n as u32, &px), idx_labels(&ls));
                steps.push(format!("count {n}"));
                if rng.one_in(2) {
                    mutate_idx(&mut rng, &mut l, &[0, 4], 1, &donors, steps);
                }
                let g = rng.one_in(2);
                if g {
                    (i, l) = (gzip(&i), gzip(&l));
                }
                g
            }
        };
        let (ri, seen_i) = reference_inflate(&i, MAX_DECOMPRESSED);
        let (rl, seen_l) = reference_inflate(&l, MAX_DECOMPRESSED);
        let reference = match (&ri, &rl) {
            (Some(ri), Some(rl)) => match (reference_images(ri), reference_labels(rl)) {
                (Some(p), Some(ls)) if p.len() == ls.len() * 784 => Some((p, ls)),
                _ => None,
            },
            _ => None,
        };
        let len = i.len() + l.len();
        let b = bound(len, seen_i + seen_l, 8);
        let (result, largest) = measured(|| Mnist::parse(&i, IMAGES_FILE, &l, LABELS_FILE));
        let outcome = Outcome { result, largest };
        let kind = |e: &DataError| data_error_kind(e, &files);
        let same = |set: &typed_cnn::data::MnistSet, (p, ls): &(&[u8], &[u8])| {
            same_pixels(set.images(), p) && set.labels() == *ls
        };
        let gz = gz || [&i, &l].iter().any(|f| f.starts_with(&[0x1f, 0x8b]));
        judge(&case, &mut stats, outcome, b, len, gz, reference, same, kind);
    }
    gzip_bomb(&labels, &mut stats);
    stats.print("IDX", start.elapsed());
}

/// The extreme of gzip: a stream of 65 KB that inflates past [`MAX_DECOMPRESSED`] (64 MiB + 1
/// zero bytes, a 1000:1 ratio) is an error, and inflating it never asks for more than the limit
/// plus the slack at once.
fn gzip_bomb(labels: &[u8], stats: &mut Stats) {
    let bomb = gzip(&vec![0; MAX_DECOMPRESSED + 1]);
    let case = Case { format: "IDX", index: u64::MAX, steps: vec!["gzip bomb".into()] };
    let (result, largest) = measured(|| Mnist::parse(&bomb, IMAGES_FILE, labels, LABELS_FILE));
    let outcome = Outcome { result, largest };
    let kind = |e: &DataError| data_error_kind(e, &[IMAGES_FILE]);
    let b = MAX_DECOMPRESSED + SLACK;
    judge(&case, stats, outcome, b, bomb.len(), true, None::<()>, |_, ()| true, kind);
}

// =============================================================================================
// Digits CSV

const CSV_FILE: &str = "fuzz-digits.csv";

/// The reference CSV checker, from the format's description: after at most one final `\n`,
/// either nothing or lines separated by `\n`, each of 65 comma-separated fields; a field is
/// decimal digits (any number of them) with optional ASCII whitespace around, 0..=16 for the 64
/// pixels and 0..=9 for the label. Parsed with `str::parse`. Returns (pixels, labels).
fn reference_csv(text: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    if body.is_empty() {
        return Some((pixels, labels));
    }
    for line in body.split(|&b| b == b'\n') {
        let line = std::str::from_utf8(line).ok()?;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return None;
        }
        for (c, field) in fields.iter().enumerate() {
            let t = field.trim_matches(|c: char| c.is_ascii_whitespace());
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let value = t.parse::<u128>().unwrap_or(u128::MAX); // all digits: only overflow fails
            let max = if c == 64 { 9 } else { 16 };
            if value > max {
                return None;
            }
            if c == 64 { labels.push(value as u8) } else { pixels.push(value as u8) }
        }
    }
    Some((pixels, labels))
}

/// The byte ranges of the fields of a CSV text (split at `,` and `\n`).
fn field_spans(v: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, &b) in v.iter().enumerate() {
        if b == b',' || b == b'\n' {
            spans.push((start, i));
            start = i + 1;
        }
    }
    spans.push((start, v.len()));
    spans
}

const CSV_TOKENS: [&[u8]; 36] = [
    b"",
    b"0",
    b"16",
    b"17",
    b"9",
    b"10",
    b"-1",
    b"-0",
    b"+5",
    b"0016",
    b"016",
    b"00",
    b"007",
    b"000000000000000000000000000000000000000016",
    b"255",
    b"256",
    b"65535",
    b"65536",
    b"4294967295",
    b"4294967296",
    b"18446744073709551615",
    b"18446744073709551616",
    b"340282366920938463463374607431768211456",
    b" 7 ",
    b"\t3",
    b"3\r",
    b"1.5",
    b"1e1",
    b"0x1",
    "é".as_bytes(),
    "١".as_bytes(),
    b"\0",
    b"\xff",
    b"\xc3",
    b"1 2",
    b"\x0b5",
];

/// One CSV-specific mutation: a field replaced by a token (huge, negative, padded, non-UTF-8…),
/// an extra or a missing column, a line deleted, duplicated or joined, line endings changed.
fn mutate_csv(rng: &mut Rng, v: &mut Vec<u8>) -> String {
    let spans = field_spans(v);
    let (s, e) = rng.pick(&spans);
    match rng.below(8) {
        0 | 1 => {
            let t = rng.pick(&CSV_TOKENS);
            v.splice(s..e, t.iter().copied());
            format!("field {s}..{e} = {:?}", String::from_utf8_lossy(t))
        }
        2 => {
            let t = rng.pick(&CSV_TOKENS);
            v.splice(e..e, [&b","[..], t].concat());
            format!("extra column at {e}: {:?}", String::from_utf8_lossy(t))
        }
        3 => {
            let end = (e + 1).min(v.len());
            v.drain(s..end);
            format!("column {s}..{end} removed")
        }
        4 => {
            let lines: Vec<usize> = (0..v.len()).filter(|&i| v[i] == b'\n').collect();
            if lines.is_empty() {
                return "no line".into();
            }
            let end = rng.pick(&lines);
            let start = lines.iter().rev().find(|&&i| i < end).map_or(0, |&i| i + 1);
            match rng.below(3) {
                0 => {
                    v.drain(start..=end);
                    format!("line {start}..={end} removed")
                }
                1 => {
                    let line = v[start..=end].to_vec();
                    v.splice(start..start, line);
                    format!("line {start}..={end} duplicated")
                }
                _ => {
                    v[end] = b',';
                    format!("newline at {end} joined")
                }
            }
        }
        5 => match rng.below(4) {
            0 => {
                let n: Vec<usize> = (0..v.len()).filter(|&i| v[i] == b'\n').collect();
                if n.is_empty() {
                    return "no line".into();
                }
                let at = rng.pick(&n);
                v.insert(at, b'\r');
                format!("CR before {at}")
            }
            1 => {
                let had = v.pop();
                format!("last byte {had:?} removed")
            }
            2 => {
                v.push(b'\n');
                "newline appended".into()
            }
            _ => {
                v.extend_from_slice(b"\r\n");
                "CRLF appended".into()
            }
        },
        6 => {
            let pad = rng.pick(&[&b"0"[..], b"00", b" ", b"\t", b"\r", b"\x0c", b"  0"]);
            let at = if rng.one_in(2) { s } else { e };
            v.splice(at..at, pad.iter().copied());
            format!("pad {:?} at {at}", String::from_utf8_lossy(pad))
        }
        _ => {
            let at = rng.range(s, e);
            let b = rng.pick(&[0xff, 0x80, 0xc3, 0xe2, b'\0', b'a', b'.', b'-', b'+']);
            v.insert(at, b);
            format!("byte {b:#04x} inserted at {at}")
        }
    }
}

#[test]
fn fuzz_digits_csv() {
    let start = Instant::now();
    let mut base_rng = Rng::for_mutation(0xC5F, u64::MAX);
    let mut csv = Vec::new();
    for line in 0..5 {
        let values: Vec<String> = (0..64).map(|_| base_rng.below(17).to_string()).collect();
        csv.extend(format!("{},{}\n", values.join(","), line * 2).bytes());
    }
    let csv_gz = gzip(&csv);
    let donors: [&[u8]; 2] = [&csv, &csv_gz];
    let files = [CSV_FILE];
    let mut stats = Stats::default();

    for index in indices(CSV_MUTATIONS) {
        let mut rng = Rng::for_mutation(0xC5F, index);
        let mut case = Case { format: "CSV", index, steps: Vec::new() };
        let mut v = csv.clone();
        let mode = rng.below(5);
        case.steps.push(format!("mode {mode}"));
        let steps = &mut case.steps;
        if mode == 4 {
            v = csv_gz.clone();
            for _ in 0..rng.range(1, 3) {
                steps.push(generic(&mut rng, &mut v, 0, usize::MAX, &donors));
            }
        } else {
            for _ in 0..rng.range(1, 3) {
                let step = if mode == 0 || rng.one_in(3) {
                    generic(&mut rng, &mut v, 0, usize::MAX, &donors)
                } else {
                    mutate_csv(&mut rng, &mut v)
                };
                steps.push(step);
            }
            if mode == 3 {
                v = gzip(&v);
                steps.push("gzip".into());
            }
        }
        let gz = v.starts_with(&[0x1f, 0x8b]);
        let (text, seen) = reference_inflate(&v, MAX_DECOMPRESSED);
        let reference = text.as_deref().and_then(reference_csv);
        let b = bound(v.len(), seen, 8);
        let (result, largest) = measured(|| parse_digits_csv(&v, CSV_FILE));
        let outcome = Outcome { result, largest };
        let kind = |e: &DataError| data_error_kind(e, &files);
        let same = |set: &typed_cnn::data::DigitsSet, (p, l): &(Vec<u8>, Vec<u8>)| {
            set.labels() == l.as_slice()
                && set.images().len() == p.len()
                && set.images().iter().zip(p).all(|(&x, &r)| x == f32::from(r) / 16.0)
        };
        judge(&case, &mut stats, outcome, b, v.len(), gz, reference, same, kind);
    }
    stats.print("digits CSV", start.elapsed());
}

// =============================================================================================
// safetensors

const WEIGHTS_FILE: &str = "fuzz.safetensors";

/// The network whose weights are fuzzed: 2·1·3·3 + 2 + 3·8 + 3 = 47 parameters.
type Tiny = (Conv2d<1, 2, 3>, Relu, Flatten, Linear<8, 3>);

/// What `Tiny` needs: names and shapes, all `F32`.
const TINY: [(&str, &[u64]); 4] =
    [("0.weight", &[2, 1, 3, 3]), ("0.bias", &[2]), ("3.weight", &[3, 8]), ("3.bias", &[3])];

/// safetensors' dtypes and their sizes in bits.
const DTYPES: [(&str, u64); 22] = [
    ("BOOL", 8),
    ("F4", 4),
    ("F6_E2M3", 6),
    ("F6_E3M2", 6),
    ("U8", 8),
    ("I8", 8),
    ("F8_E5M2", 8),
    ("F8_E4M3", 8),
    ("F8_E8M0", 8),
    ("F8_E4M3FNUZ", 8),
    ("F8_E5M2FNUZ", 8),
    ("I16", 16),
    ("U16", 16),
    ("F16", 16),
    ("BF16", 16),
    ("I32", 32),
    ("U32", 32),
    ("F32", 32),
    ("C64", 64),
    ("F64", 64),
    ("I64", 64),
    ("U64", 64),
];

/// One tensor of a file, as the reference reads it.
#[derive(Clone, Debug)]
struct RefTensor {
    name: String,
    dtype: String,
    shape: Vec<u64>,
    data: Vec<u8>,
}

/// A safetensors file as the reference reads it.
struct RefFile {
    tensors: Vec<RefTensor>,
    metadata: BTreeMap<String, String>,
}

/// The reference safetensors reader, from the format's specification: an 8-byte little-endian
/// header length `n` (at most 100,000,000 and at most what follows), `n` bytes of UTF-8 JSON
/// (whitespace around allowed): an object whose optional `__metadata__` (at most once) is `null`
/// or an object of strings, and whose other members are tensors, each an object with exactly one
/// `dtype` (a known dtype name), `shape` (integers) and `data_offsets` (two integers), other
/// members ignored (or, as `serde` also reads structs, an array of exactly those three); a name
/// given twice keeps its last value (as a JSON map does). Sorted by offsets, the tensors must
/// tile the data from 0 without gap or overlap, each exactly as long as its dtype size times its
/// shape's product (without overflow, in whole bytes), and the data must end at the file's end.
fn reference_safetensors(bytes: &[u8]) -> Option<RefFile> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    if n > 100_000_000 || n > (bytes.len() - 8) as u64 {
        return None;
    }
    let n = n as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).ok()?;
    let Json::Obj(members) = parse_json(header)? else { return None };
    let mut metadata = None;
    // (name, dtype, shape, data offsets)
    type Info = (String, String, Vec<u64>, (u64, u64));
    let mut infos: Vec<Info> = Vec::new();
    for (key, value) in members {
        if key == "__metadata__" {
            if metadata.is_some() {
                return None;
            }
            let mut map = BTreeMap::new();
            match value {
                Json::Null => {}
                Json::Obj(entries) => {
                    for (k, v) in entries {
                        let Json::Str(v) = v else { return None };
                        map.insert(k, v);
                    }
                }
                _ => return None,
            }
            metadata = Some(map);
            continue;
        }
        let (dtype, shape, offsets) = match value {
            Json::Obj(fields) => {
                let mut found: [Option<Json>; 3] = [None, None, None];
                for (k, v) in fields {
                    let slot = ["dtype", "shape", "data_offsets"].iter().position(|&f| f == k);
                    if let Some(slot) = slot {
                        if found[slot].is_some() {
                            return None;
                        }
                        found[slot] = Some(v);
                    }
                }
                let [Some(d), Some(s), Some(o)] = found else { return None };
                (d, s, o)
            }
            Json::Arr(items) if items.len() == 3 => {
                let [d, s, o] = <[Json; 3]>::try_from(items).ok()?;
                (d, s, o)
            }
            _ => return None,
        };
        let Json::Str(dtype) = dtype else { return None };
        DTYPES.iter().any(|(d, _)| *d == dtype).then_some(())?;
        let ints = |v: Json| -> Option<Vec<u64>> {
            let Json::Arr(items) = v else { return None };
            items.into_iter().map(|x| if let Json::Int(i) = x { Some(i) } else { None }).collect()
        };
        let shape = ints(shape)?;
        let Ok([s, e]) = <[u64; 2]>::try_from(ints(offsets)?) else { return None };
        infos.retain(|(name, ..)| *name != key);
        infos.push((key, dtype, shape, (s, e)));
    }
    infos.sort_by_key(|(.., offsets)| *offsets);
    let data = &bytes[8 + n..];
    let mut end = 0u64;
    let mut tensors = Vec::new();
    for (name, dtype, shape, (s, e)) in infos {
        if s != end || e < s {
            return None;
        }
        end = e;
        let bits = DTYPES.iter().find(|(d, _)| *d == dtype)?.1;
        let count = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))?;
        let nbits = count.checked_mul(bits)?;
        if nbits % 8 != 0 || e - s != nbits / 8 {
            return None;
        }
        let bytes = data.get(s as usize..e as usize)?.to_vec();
        tensors.push(RefTensor { name, dtype, shape, data: bytes });
    }
    if end != data.len() as u64 {
        return None;
    }
    Some(RefFile { tensors, metadata: metadata.unwrap_or_default() })
}

fn f32s(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// What `from_bytes` into `Tiny` must load: the file's tensors are exactly `TINY`'s names with
/// their shapes, all `F32`. Returns the values (as bits) by name.
fn reference_tiny(file: &RefFile) -> Option<BTreeMap<String, Vec<u32>>> {
    let mut out = BTreeMap::new();
    for t in &file.tensors {
        let (_, shape) = TINY.iter().find(|(name, _)| *name == t.name)?;
        (t.dtype == "F32" && t.shape == *shape).then_some(())?;
        out.insert(t.name.clone(), f32s(&t.data));
    }
    (out.len() == TINY.len()).then_some(out)
}

/// A state dict entry for comparisons: name, shape, and values (as bits) or a count.
type StateEntry = (String, Vec<u64>, Result<Vec<u32>, u64>);

/// What `state_dict_from_bytes::<f32>` must return: every tensor `F32` (values) or a
/// non-negative `I64` scalar (a count). Entries sorted by name.
fn reference_state(file: &RefFile) -> Option<Vec<StateEntry>> {
    let mut out = Vec::new();
    for t in &file.tensors {
        let data = match t.dtype.as_str() {
            "F32" => Ok(f32s(&t.data)),
            "I64" if t.shape.is_empty() => {
                let count = i64::from_le_bytes(t.data.clone().try_into().ok()?);
                Err(u64::try_from(count).ok()?)
            }
            _ => return None,
        };
        out.push((t.name.clone(), t.shape.clone(), data));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

fn weights_error_kind(err: &WeightsError) -> Result<String, String> {
    let msg = err.to_string();
    if !msg.starts_with(&format!("{WEIGHTS_FILE}: ")) {
        return Err(format!("error does not start with the file name: {msg}"));
    }
    Ok(match err {
        WeightsError::Format { message, .. } => {
            let m = message.strip_prefix("not a valid safetensors file: ").unwrap_or(message);
            // Group safetensors' errors by their kind, not their details.
            let m = m.split(" at line").next().unwrap_or(m);
            // Names between quotes or backticks left out.
            let m: String = m.split(['`', '"']).step_by(2).collect::<Vec<_>>().join("…");
            format!("Format: {}", normalized(m.trim_end()))
        }
        WeightsError::Missing { .. } => "Missing".into(),
        WeightsError::Unexpected { .. } => "Unexpected".into(),
        WeightsError::ShapeMismatch { .. } => "ShapeMismatch".into(),
        WeightsError::Dtype { expected, found, .. } => format!("Dtype: {expected} ← {found}"),
        other => return Err(format!("unexpected variant while loading: {other:?}")),
    })
}

/// The header's length field.
fn header_len(v: &[u8]) -> Option<usize> {
    Some(u64::from_le_bytes(v.get(..8)?.try_into().ok()?) as usize)
}

/// Rewrites the header length field to `n`.
fn set_header_len(v: &mut [u8], n: u64) {
    if v.len() >= 8 {
        v[..8].copy_from_slice(&n.to_le_bytes());
    }
}

const NUMBERS: [&str; 18] = [
    "0",
    "1",
    "2",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "2305843009213693951",
    "4611686018427387904",
    "-1",
    "-0",
    "1.0",
    "1e2",
    "01",
    "100000000",
    "1152921504606846976",
];

/// One safetensors-specific mutation: the length field set to an extreme; a number of the JSON
/// header (a shape dim, a data offset) set to an extreme or to its value ±1; a dtype changed; or
/// a generic mutation confined to the header. The JSON mutations then usually rewrite the length
/// field to the new header's length, so that they reach the JSON reader.
fn mutate_safetensors(rng: &mut Rng, v: &mut Vec<u8>, donors: &[&[u8]]) -> String {
    let Some(n) = header_len(v).filter(|&n| n <= v.len().saturating_sub(8)) else {
        return generic(rng, v, 0, usize::MAX, donors);
    };
    let before = v.len();
    let step = match rng.below(6) {
        5 => {
            // The data: any bits are valid values.
            let mut flips = Vec::new();
            for _ in 0..rng.range(1, 8) {
                if v.len() > 8 + n {
                    let (i, bit) = (rng.range(8 + n, v.len() - 1), rng.below(8));
                    v[i] ^= 1 << bit;
                    flips.push((i, bit));
                }
            }
            return format!("data bit flips {flips:?}");
        }
        0 => {
            let value = extreme(rng, n as u64, u64::MAX);
            set_header_len(v, value);
            return format!("header length = {value}");
        }
        1 | 2 => {
            // Digit runs inside the header.
            let mut runs = Vec::new();
            let mut i = 8;
            while i < 8 + n {
                if v[i].is_ascii_digit() {
                    let s = i;
                    while i < 8 + n && v[i].is_ascii_digit() {
                        i += 1;
                    }
                    runs.push((s, i));
                }
                i += 1;
            }
            if runs.is_empty() {
                return "no number".into();
            }
            let (s, e) = rng.pick(&runs);
            let old: u64 = std::str::from_utf8(&v[s..e]).unwrap().parse().unwrap_or(0);
            let new = match rng.below(3) {
                0 => rng.pick(&NUMBERS).to_string(),
                1 => old.wrapping_add(1).to_string(),
                _ => old.wrapping_sub(1).to_string(),
            };
            v.splice(s..e, new.bytes());
            format!("number {s}..{e} ({old}) = {new}")
        }
        3 => {
            let key = b"\"dtype\":\"";
            let Some(at) = v[8..8 + n].windows(key.len()).position(|w| w == key) else {
                return "no dtype".into();
            };
            let s = 8 + at + key.len();
            let Some(len) = v[s..8 + n].iter().position(|&b| b == b'"') else {
                return "no dtype end".into();
            };
            let (d, _) = rng.pick(&DTYPES);
            let d = if rng.one_in(8) { "f32" } else { d };
            v.splice(s..s + len, d.bytes());
            format!("dtype at {s} = {d}")
        }
        _ => generic(rng, v, 8, 8 + n, donors) + " (in the header)",
    };
    if rng.below(4) != 0 {
        let new = (n + v.len()) as u64 - before as u64;
        set_header_len(v, new);
        format!("{step}; header length = {new}")
    } else {
        step
    }
}

#[test]
fn fuzz_safetensors() {
    let start = Instant::now();
    let net = Tiny::init(&mut StdRng::seed_from_u64(7));
    let tiny = weights::to_bytes(&net).unwrap();
    let mut state = StateDict::<f32>::new();
    state.entries.push(Entry::values("exp_avg.0.weight", vec![2, 3], vec![0.5; 6]));
    state.entries.push(Entry::count("step", 7));
    state.entries.push(Entry::values("empty", vec![0, 4], vec![]));
    state.metadata.insert("note".into(), "fuzz \"quoted\" é".into());
    let state_file = weights::state_dict_to_bytes(&state).unwrap();
    let donors: [&[u8]; 2] = [&tiny, &state_file];
    let mut stats = Stats::default();
    let mut state_stats = Stats::default();

    for index in indices(SAFETENSORS_MUTATIONS) {
        let mut rng = Rng::for_mutation(0x5AFE, index);
        let mut case = Case { format: "safetensors", index, steps: Vec::new() };
        let mut v = if rng.below(10) < 7 { tiny.clone() } else { state_file.clone() };
        case.steps.push(format!("base of {} bytes", v.len()));
        for _ in 0..rng.range(1, 3) {
            let step = if rng.below(5) < 3 {
                mutate_safetensors(&mut rng, &mut v, &donors)
            } else {
                generic(&mut rng, &mut v, 0, usize::MAX, &donors)
            };
            case.steps.push(step);
        }
        let reference = reference_safetensors(&v);
        let b = bound(v.len(), 0, 32);

        // Into the typed network: all-or-nothing.
        let mut model = Tiny::init(&mut StdRng::seed_from_u64(8));
        let before = model.clone();
        let (result, largest) = measured(|| weights::from_bytes(&mut model, &v, WEIGHTS_FILE));
        let failed = matches!(result, Ok(Err(_)));
        let outcome = Outcome { result, largest };
        let loaded = StateDict::from_model(&model);
        let same = |(): &(), r: &BTreeMap<String, Vec<u32>>| {
            loaded.entries.len() == r.len()
                && loaded.entries.iter().all(|e| match &e.data {
                    EntryData::Values(x) => r
                        .get(&e.name)
                        .is_some_and(|r| *r == x.iter().map(|f| f.to_bits()).collect::<Vec<_>>()),
                    EntryData::Count(_) => false,
                })
        };
        let expected = reference.as_ref().and_then(reference_tiny);
        judge(&case, &mut stats, outcome, b, v.len(), false, expected, same, weights_error_kind);
        if failed && model != before {
            case.fail("a failed load changed the model");
        }

        // Into a state dict.
        let (result, largest) =
            measured(|| weights::state_dict_from_bytes::<f32>(&v, WEIGHTS_FILE));
        let outcome = Outcome { result, largest };
        let expected =
            reference.as_ref().and_then(|f| Some((reference_state(f)?, f.metadata.clone())));
        let same = |s: &StateDict<f32>, (r, meta): &(Vec<_>, BTreeMap<String, String>)| {
            let mut got: Vec<StateEntry> = s
                .entries
                .iter()
                .map(|e| {
                    let shape = e.shape.iter().map(|&d| d as u64).collect();
                    let data = match &e.data {
                        EntryData::Values(x) => Ok(x.iter().map(|f| f.to_bits()).collect()),
                        EntryData::Count(c) => Err(*c),
                    };
                    (e.name.clone(), shape, data)
                })
                .collect();
            got.sort_by(|a, b| a.0.cmp(&b.0));
            got == *r && s.metadata == *meta
        };
        judge(
            &case,
            &mut state_stats,
            outcome,
            b,
            v.len(),
            false,
            expected,
            same,
            weights_error_kind,
        );
    }
    stats.print(
        "safetensors, from_bytes into (Conv2d<1, 2, 3>, Relu, Flatten, Linear<8, 3>)",
        start.elapsed(),
    );
    state_stats.print("safetensors, state_dict_from_bytes::<f32>", start.elapsed());
}
