//! The fuzz suite's machinery: a counting global allocator, a seeded generator, byte mutations,
//! statistics, and a small strict JSON parser for the safetensors reference checker.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

// ---------------------------------------------------------------------------------------------
// The counting allocator

/// Delegates to [`System`] and, on threads that asked for it, records the largest single request
/// (allocation, zeroed allocation or reallocation's new size).
struct Counting;

thread_local! {
    // `const` initializers without destructors: reading them never allocates nor registers a
    // destructor, so the allocator may use them.
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; `note` only reads and writes thread-local `Cell`s and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's guarantees on `layout` are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` was allocated by `System` (every allocation goes through it) with
        // `layout`, as the caller guarantees; `new_size` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, catching a panic, and returns its result with the largest single allocation request
/// made on this thread while it ran.
pub fn measured<T>(f: impl FnOnce() -> T) -> (std::thread::Result<T>, usize) {
    LARGEST.with(|l| l.set(0));
    TRACKING.with(|t| t.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    TRACKING.with(|t| t.set(false));
    (result, LARGEST.with(Cell::get))
}

// ---------------------------------------------------------------------------------------------
// The generator

/// SplitMix64: deterministic, seeded, no dependency.
pub struct Rng(u64);

impl Rng {
    /// The generator of mutation `index` of a format whose stream is `stream`.
    pub fn for_mutation(stream: u64, index: u64) -> Self {
        let mut seeder = Self(stream ^ index.wrapping_mul(0xD134_2543_DE82_EF95));
        Self(seeder.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` if `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// `true` with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// A length for a range: mostly short, sometimes up to `max`.
    pub fn len_up_to(&mut self, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        match self.below(4) {
            0 => self.range(1, max),
            _ => self.range(1, max.min(16)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/// Bytes worth writing: boundaries, and the characters that structure the three formats.
const INTERESTING: [u8; 20] = [
    0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x1f, 0x8b, 0x08, 0x03, b'0', b'9', b',', b'\n', b'\r', b'"',
    b'[', b'{', b'-', b' ',
];

/// One generic mutation of `v` at positions in `lo..=hi` (clamped to the data): bit flips, byte
/// sets, truncation, splices from `donors` (overwriting or inserting), insertion, deletion and
/// duplication of ranges. Returns a description for failure messages.
pub fn generic(rng: &mut Rng, v: &mut Vec<u8>, lo: usize, hi: usize, donors: &[&[u8]]) -> String {
    let hi = hi.min(v.len());
    let lo = lo.min(hi);
    let pos = |rng: &mut Rng| rng.range(lo, hi); // an insertion point
    let at = |rng: &mut Rng| if hi > lo { Some(rng.range(lo, hi - 1)) } else { None }; // a byte
    match rng.below(9) {
        0 => {
            let mut done = Vec::new();
            for _ in 0..rng.range(1, 4) {
                if let Some(i) = at(rng) {
                    let bit = rng.below(8);
                    v[i] ^= 1 << bit;
                    done.push(format!("{i}.{bit}"));
                }
            }
            format!("flip bits {done:?}")
        }
        1 => match at(rng) {
            Some(i) => {
                let b = if rng.one_in(3) { rng.byte() } else { rng.pick(&INTERESTING) };
                v[i] = b;
                format!("set byte {i} = {b:#04x}")
            }
            None => "set byte: empty".into(),
        },
        2 => {
            let cut = pos(rng);
            v.truncate(cut);
            format!("truncate at {cut}")
        }
        3 | 4 => {
            let donor = if rng.one_in(4) { v.clone() } else { rng.pick(donors).to_vec() };
            let len = rng.len_up_to(donor.len());
            let src = rng.below(donor.len() - len + 1);
            let piece = &donor[src..src + len];
            let dst = pos(rng);
            if rng.below(2) == 0 {
                let end = (dst + len).min(v.len());
                v.splice(dst..end, piece.iter().copied());
                format!("splice over {dst}: {len} bytes from donor offset {src}")
            } else {
                v.splice(dst..dst, piece.iter().copied());
                format!("splice in at {dst}: {len} bytes from donor offset {src}")
            }
        }
        5 => {
            let dst = pos(rng);
            let len = rng.range(1, 16);
            let fill: Vec<u8> = if rng.one_in(2) {
                vec![rng.pick(&INTERESTING); len]
            } else {
                (0..len).map(|_| rng.byte()).collect()
            };
            v.splice(dst..dst, fill);
            format!("insert {len} bytes at {dst}")
        }
        6 | 7 => {
            let start = pos(rng);
            let len = rng.len_up_to(hi - start);
            v.drain(start..start + len);
            format!("delete {len} bytes at {start}")
        }
        _ => {
            let start = pos(rng);
            let len = rng.len_up_to(hi - start);
            let piece = v[start..start + len].to_vec();
            let dst = pos(rng);
            v.splice(dst..dst, piece);
            format!("duplicate {len} bytes from {start} at {dst}")
        }
    }
}

/// Values for a length or count field whose true value is `truth`: 0, 1, the extremes of the
/// field's width, and values just above and below the truth.
pub fn extreme(rng: &mut Rng, truth: u64, max: u64) -> u64 {
    let near = [
        truth.wrapping_sub(1),
        truth.wrapping_add(1),
        truth.wrapping_add(2),
        truth.wrapping_sub(2),
        truth.wrapping_mul(2),
        truth / 2,
    ];
    match rng.below(5) {
        0 => rng.pick(&[0, 1, 2, max, max - 1, max / 2, max / 2 + 1]),
        1 | 2 => rng.pick(&near) & max,
        3 => rng.pick(&[u64::from(u32::MAX), 1 << 32, 1 << 31, 100_000_000, 100_000_001]) & max,
        _ => rng.next_u64() & max,
    }
}

/// `bytes` gzip'd (fast level).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("in memory");
    gz.finish().expect("in memory")
}

/// The reference inflater: bytes that do not start with the gzip magic are taken as they are;
/// otherwise they must be one or more complete gzip members (RFC 1952 allows concatenation) with
/// nothing after the last one, inflating to at most `limit` bytes. Returns the contents (`None`
/// if invalid) and how many bytes the stream inflated to before it ended or failed.
pub fn reference_inflate(bytes: &[u8], limit: usize) -> (Option<Vec<u8>>, usize) {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return ((bytes.len() <= limit).then(|| bytes.to_vec()), 0);
    }
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let mut member = flate2::bufread::GzDecoder::new(rest);
        let room = (limit + 1 - out.len()) as u64;
        if (&mut member).take(room).read_to_end(&mut out).is_err() || out.len() > limit {
            let seen = out.len();
            return (None, seen);
        }
        rest = member.into_inner();
    }
    let seen = out.len();
    (Some(out), seen)
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// What one format's fuzzing saw.
#[derive(Default)]
pub struct Stats {
    pub tried: usize,
    pub ok: usize,
    pub err: usize,
    /// Error kinds (a variant or a field, numbers replaced by `N`) and how often each was seen.
    pub kinds: BTreeMap<String, usize>,
    /// The largest single allocation during a parse of raw input, and of gzip'd input.
    pub largest_raw: usize,
    pub largest_gzip: usize,
    /// The largest ratio of a raw parse's largest allocation to the input's length (inputs of
    /// at least 1 KiB: below, fixed costs such as an error message dominate).
    pub largest_ratio: f64,
}

impl Stats {
    pub fn record(&mut self, result: Result<(), String>) {
        self.tried += 1;
        match result {
            Ok(()) => self.ok += 1,
            Err(kind) => {
                self.err += 1;
                *self.kinds.entry(kind).or_default() += 1;
            }
        }
    }

    pub fn print(&self, name: &str, elapsed: std::time::Duration) {
        println!(
            "{name}: {} parses, {} Ok, {} Err in {elapsed:.2?}; largest allocation {} bytes for \
             raw input (at most {:.1}× the input), {} bytes for gzip'd input",
            self.tried, self.ok, self.err, self.largest_raw, self.largest_ratio, self.largest_gzip
        );
        for (kind, n) in &self.kinds {
            println!("    {n:>7}  {kind}");
        }
    }
}

/// `s` with every run of digits replaced by `N` and cut at 70 characters, for grouping errors.
pub fn normalized(s: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    if out.chars().count() > 70 {
        out = out.chars().take(70).collect::<String>() + "…";
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A strict JSON parser (RFC 8259, as `serde_json` reads it: no leading zeros, no lone
// surrogates, no control characters in strings, nesting at most 128 deep)

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool,
    /// A non-negative integer without fraction or exponent that fits a `u64`.
    Int(u64),
    /// Any other number (negative, fractional, with an exponent, or above `u64::MAX`).
    Num,
    Str(String),
    Arr(Vec<Json>),
    /// Members in document order (duplicates kept).
    Obj(Vec<(String, Json)>),
}

/// Parses a whole document (surrounding whitespace allowed), or `None`.
pub fn parse_json(text: &str) -> Option<Json> {
    let mut p = JsonParser { b: text.as_bytes(), i: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }

    fn literal(&mut self, word: &str, v: Json) -> Option<Json> {
        self.b[self.i..].starts_with(word.as_bytes()).then(|| {
            self.i += word.len();
            v
        })
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        match *self.b.get(self.i)? {
            b'{' | b'[' if depth >= 128 => None,
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.eat(b'}') {
                    return Some(Json::Obj(members));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    self.eat(b':').then_some(())?;
                    self.ws();
                    members.push((key, self.value(depth + 1)?));
                    self.ws();
                    if self.eat(b'}') {
                        return Some(Json::Obj(members));
                    }
                    self.eat(b',').then_some(())?;
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat(b']') {
                    return Some(Json::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b']') {
                        return Some(Json::Arr(items));
                    }
                    self.eat(b',').then_some(())?;
                }
            }
            b'"' => self.string().map(Json::Str),
            b't' => self.literal("true", Json::Bool),
            b'f' => self.literal("false", Json::Bool),
            b'n' => self.literal("null", Json::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<Json> {
        let negative = self.eat(b'-');
        let start = self.i;
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return None,
        }
        let int = &self.b[start..self.i];
        let mut plain = !negative;
        if self.eat(b'.') {
            plain = false;
            (self.digits() > 0).then_some(())?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            plain = false;
            let _ = self.eat(b'+') || self.eat(b'-');
            (self.digits() > 0).then_some(())?;
        }
        let int = std::str::from_utf8(int).ok()?;
        Some(match plain.then(|| int.parse::<u64>().ok()).flatten() {
            Some(n) => Json::Int(n),
            None => Json::Num,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        self.i += 4;
        let h = std::str::from_utf8(h).ok()?;
        h.bytes().all(|c| c.is_ascii_hexdigit()).then_some(())?;
        u32::from_str_radix(h, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b'"').then_some(())?;
        let mut out = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let u = self.hex4()?;
                            let code = match u {
                                0xD800..=0xDBFF => {
                                    (self.eat(b'\\') && self.eat(b'u')).then_some(())?;
                                    let low = self.hex4()?;
                                    (0xDC00..=0xDFFF).contains(&low).then_some(())?;
                                    0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return None,
                                _ => u,
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                }
                0..0x20 => return None,
                _ => out.push(c),
            }
        }
    }
}
