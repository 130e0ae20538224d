//! Inference allocates nothing: LeNet-5, trained by the `mnist` example, viewed in place in its
//! weight file and run on the first MNIST test images with an allocator that records every
//! allocation made while the test is armed; the test fails on any. It runs with and without the
//! `std` feature (`cargo test --release --no-default-features --test no_heap`: the crate is then
//! `#![no_std]`); with `std` it also checks the logits against `Module::forward`.
//!
//! `harness = false` (Cargo.toml): a plain `main`, so no test runner thread allocates while armed.
#![allow(unsafe_code, reason = "a global allocator is an unsafe impl; it forwards to System")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use typed_cnn::infer::SafeTensors;
use typed_cnn::models::LeNet5;
use typed_cnn::prelude::*;

/// Counts the allocations made while `ARMED`.
struct Recording;

static ARMED: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s contract;
// the counter is an atomic and allocates nothing.
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::SeqCst) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout (through `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// The weights of `cargo run --release --example mnist` (5 epochs, seed 0; see
/// examples/cortex-m/README.md), 16-byte aligned so that they are viewed in place.
static WEIGHTS: &[u8] = typed_cnn::include_weights!("../examples/cortex-m/lenet-mnist.safetensors");
/// The first 16 MNIST test images (784 bytes each) and their 16 labels.
static DIGITS: &[u8] = include_bytes!("../examples/cortex-m/digits.bin");
const COUNT: usize = 16;

type In = Tensor<1, 1, 28, 28>;
const WORKSPACE: usize = <LeNet5 as Infer<In>>::WORKSPACE_LEN;

/// The logits of every image, computed with nothing allocated.
fn infer_all(net: &LeNet5, logits: &mut [[f32; 10]; COUNT]) {
    let mut workspace = [0.0f32; WORKSPACE];
    let mut x = [0.0f32; 784];
    for (image, out) in DIGITS.chunks_exact(784).zip(logits.iter_mut()) {
        for (v, &p) in x.iter_mut().zip(image) {
            *v = f32::from(p) / 255.0; // the MNIST loader's scaling
        }
        let y = net.infer::<In>(&x, &mut workspace).expect("lengths from the types");
        out.copy_from_slice(y);
    }
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

fn main() {
    let mut logits = [[0.0f32; 10]; COUNT];
    ARMED.store(true, Ordering::SeqCst);
    let file = SafeTensors::parse(WEIGHTS).expect("the committed weight file parses");
    let net = LeNet5::view(&file).expect("the weight file holds LeNet-5");
    infer_all(&net, &mut logits);
    ARMED.store(false, Ordering::SeqCst);
    let allocations = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(allocations, 0, "inference allocated {allocations} times");

    let labels = &DIGITS[COUNT * 784..];
    let digits: Vec<usize> = logits.iter().map(|l| argmax(l)).collect();
    println!("no_heap: digits {digits:?}, labels {labels:?}, 0 allocations");
    let right = digits.iter().zip(labels).filter(|(d, l)| **d == usize::from(**l)).count();
    assert!(right >= 15, "only {right} of {COUNT} digits right: {digits:?} vs {labels:?}");

    #[cfg(feature = "std")]
    {
        // The same weights loaded (copied) as `std` does, and the batched `forward`.
        let mut owned = LeNet5::default();
        typed_cnn::weights::from_bytes(&mut owned, WEIGHTS, "lenet-mnist.safetensors")
            .expect("loads");
        let x = Tensor::<COUNT, 1, 28, 28>::from_fn(|n, _, h, w| {
            f32::from(DIGITS[n * 784 + h * 28 + w]) / 255.0
        });
        let want = owned.forward(x);
        for (n, l) in logits.iter().enumerate() {
            let w = want.row(n);
            assert_eq!(argmax(l), argmax(w), "image {n}");
            let scale = w.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            for (g, e) in l.iter().zip(w) {
                // the project's f32 tolerance, the std result standing for the reference
                assert!((g - e).abs() <= 1e-4 * e.abs() + 1e-5 * scale, "image {n}: {g} vs {e}");
            }
        }
        println!("no_heap: logits within tolerance of Module::forward");
        zoo_infers_without_allocating();
    }
}

/// The zoo's declared networks (routes with sums and concatenations, transposed convolutions)
/// infer without allocating too: their files are made and read before the allocator is armed.
#[cfg(feature = "std")]
fn zoo_infers_without_allocating() {
    use typed_cnn::models::{MobileNetV2, ResNet18, UNet};
    let mut rng = typed_cnn::rand::rng();
    let unet = UNet::<3, 2>::init(&mut rng);
    let resnet = ResNet18::<10>::init(&mut rng);
    let mobilenet = MobileNetV2::<10>::init(&mut rng);
    let unet = UNet::<3, 2>::view(
        &SafeTensors::leak(&typed_cnn::weights::to_bytes(&unet).unwrap()).unwrap(),
    )
    .unwrap();
    let resnet = ResNet18::<10>::view(
        &SafeTensors::leak(&typed_cnn::weights::to_bytes(&resnet).unwrap()).unwrap(),
    )
    .unwrap();
    let mobilenet = MobileNetV2::<10>::view(
        &SafeTensors::leak(&typed_cnn::weights::to_bytes(&mobilenet).unwrap()).unwrap(),
    )
    .unwrap();
    type Image = Tensor<1, 3, 32, 32>;
    let x = vec![0.25f32; 3 * 32 * 32];
    let mut ws = vec![
        0.0f32;
        <ResNet18<10> as Infer<Image>>::WORKSPACE_LEN
            .max(<UNet<3, 2> as Infer<Image>>::WORKSPACE_LEN)
            .max(<MobileNetV2<10> as Infer<Image>>::WORKSPACE_LEN)
    ];
    ARMED.store(true, Ordering::SeqCst);
    let a = unet.infer::<Image>(&x, &mut ws).unwrap()[0];
    let b = resnet.infer::<Image>(&x, &mut ws).unwrap()[0];
    let c = mobilenet.infer::<Image>(&x, &mut ws).unwrap()[0];
    ARMED.store(false, Ordering::SeqCst);
    let allocations = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(allocations, 0, "the zoo's inference allocated {allocations} times");
    assert!(a.is_finite() && b.is_finite() && c.is_finite());
    println!("no_heap: U-Net, ResNet-18 and MobileNetV2 inferred, 0 allocations");
}
