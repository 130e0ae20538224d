//! Loads a torchvision ResNet-18 checkpoint into the typed `ResNet18<1000>` and classifies an
//! image with it: the import path of a PyTorch-trained model into a Rust program.
//!
//! ```text
//! # once, in a Python environment with torch, torchvision and safetensors:
//! python3 -c "import torch, torchvision; torch.save(torchvision.models.resnet18(weights='DEFAULT').state_dict(), 'resnet18.pth')"
//! python3 scripts/pth_to_safetensors.py resnet18.pth resnet18.safetensors
//! # then:
//! cargo run --release --example import -- resnet18.safetensors [image.ppm] [--prefix module.]
//! ```
//!
//! The load is strict: every one of torchvision's 122 tensors must be there with its shape (the
//! error names the first that is not). The image is a binary PPM (`P6`, any size; `convert
//! photo.jpg image.ppm` makes one): its centre square is resized to 224×224 and normalized with
//! ImageNet's mean and standard deviation, as torchvision's preprocessing does (nearest-neighbour
//! resizing here). Without an image, a fixed test pattern is classified. Prints the top 5 class
//! indices of ImageNet-1k with their probabilities.

use std::process::exit;

use typed_cnn::models::ResNet18;
use typed_cnn::prelude::*;
use typed_cnn::weights;

const SIDE: usize = 224;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut weights_path, mut image, mut prefix) = (None, None, String::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--prefix" => prefix = args.next().unwrap_or_else(|| fail("--prefix needs a value")),
            "-h" | "--help" => fail(""),
            _ if weights_path.is_none() => weights_path = Some(arg),
            _ if image.is_none() => image = Some(arg),
            _ => fail(&format!("unexpected argument {arg}")),
        }
    }
    let Some(weights_path) = weights_path else { fail("give the safetensors file") };

    let mut net = ResNet18::<1000>::default();
    let loaded = weights::load_renamed(&mut net, &weights_path, |n| format!("{prefix}{n}"));
    if let Err(e) = loaded {
        eprintln!("error: {e}");
        eprintln!("(a torchvision resnet18 state dict converted by scripts/pth_to_safetensors.py)");
        exit(1);
    }
    let pixels = match &image {
        Some(path) => read_ppm(path).unwrap_or_else(|e| fail(&format!("{path}: {e}"))),
        None => test_pattern(),
    };
    let x = Tensor::<1, 3, SIDE, SIDE>::from_slice(&pixels).expect("3·224·224 values");
    let start = std::time::Instant::now();
    let logits: Tensor2<1, 1000> = net.forward(x);
    let took = start.elapsed();

    let max = logits.as_slice().iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let exp: Vec<f32> = logits.as_slice().iter().map(|&v| (v - max).exp()).collect();
    let total: f32 = exp.iter().sum();
    let mut ranked: Vec<(usize, f32)> = exp.iter().map(|&e| e / total).enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!(
        "{}: {} ({:.1} ms)",
        image.as_deref().unwrap_or("test pattern"),
        weights_path,
        took.as_secs_f64() * 1e3
    );
    for (class, p) in ranked.iter().take(5) {
        println!("  class {class:4}  p = {p:.4}  logit {:.4}", logits.as_slice()[*class]);
    }
}

fn fail(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("error: {msg}");
    }
    eprintln!(
        "usage: cargo run --release --example import -- WEIGHTS.safetensors [IMAGE.ppm] [--prefix P]"
    );
    exit(2)
}

/// A fixed pattern (smooth colour gradients), normalized as an image would be; the same formula
/// gives PyTorch the same input: value(c, h, w) = ((h·(c+1) + 2w) mod 256) / 255.
fn test_pattern() -> Vec<f32> {
    let mut v = Vec::with_capacity(3 * SIDE * SIDE);
    for c in 0..3 {
        for h in 0..SIDE {
            for w in 0..SIDE {
                let raw = ((h * (c + 1) + 2 * w) % 256) as f32 / 255.0;
                v.push((raw - MEAN[c]) / STD[c]);
            }
        }
    }
    v
}

/// A binary PPM's centre square, resized to 224×224 (nearest), as normalized CHW values.
fn read_ppm(path: &str) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    // Header: "P6", width, height, maxval (255), each separated by whitespace; comments skipped.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'#') {
            if bytes[i] == b'#' {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            } else {
                i += 1;
            }
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if start == i {
            return Err("truncated PPM header".into());
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    if fields[0] != "P6" {
        return Err(format!("expected a binary PPM (P6), found {:?}", fields[0]));
    }
    let num = |s: &str| s.parse::<usize>().map_err(|_| format!("bad PPM header field {s:?}"));
    let (w, h, maxval) = (num(&fields[1])?, num(&fields[2])?, num(&fields[3])?);
    if maxval != 255 || w == 0 || h == 0 {
        return Err(format!(
            "expected 8-bit channels and a non-empty image, found {w}×{h} max {maxval}"
        ));
    }
    let data = &bytes[i + 1..];
    if data.len() < w * h * 3 {
        return Err(format!("{w}×{h} needs {} bytes of pixels, found {}", w * h * 3, data.len()));
    }
    let side = w.min(h);
    let (x0, y0) = ((w - side) / 2, (h - side) / 2);
    let mut v = vec![0.0; 3 * SIDE * SIDE];
    for c in 0..3 {
        for oy in 0..SIDE {
            for ox in 0..SIDE {
                let (sy, sx) = (y0 + oy * side / SIDE, x0 + ox * side / SIDE);
                let raw = f32::from(data[(sy * w + sx) * 3 + c]) / 255.0;
                v[(c * SIDE + oy) * SIDE + ox] = (raw - MEAN[c]) / STD[c];
            }
        }
    }
    Ok(v)
}
