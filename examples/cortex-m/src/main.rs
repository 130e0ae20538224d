//! LeNet-5, trained on a desktop by typed-cnn's `mnist` example, classifying the first MNIST
//! test images on a Cortex-M4F: the library's own network type ([`LeNet5`]), its weights viewed
//! in place in flash, its activations in a workspace whose size the compiler computed. Nothing
//! is allocated (there is no allocator). Prints the digits through semihosting, then the
//! instructions each inference took (under `qemu -icount shift=0`, see `instructions`).
#![no_std]
#![no_main]

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};
use panic_halt as _;
use typed_cnn::infer::SafeTensors;
use typed_cnn::models::LeNet5;
use typed_cnn::prelude::*;

/// `mnist` example's weights (5 epochs, seed 0: 98.64 % on the test set), 16-byte aligned in flash.
static WEIGHTS: &[u8] = typed_cnn::include_weights!("../lenet-mnist.safetensors");
/// The first 16 MNIST test images (28×28 bytes each), then their 16 labels.
static DIGITS: &[u8] = include_bytes!("../digits.bin");
const COUNT: usize = 16;

/// One image in, `(1, 10)` logits out.
type In = Tensor<1, 1, 28, 28>;
/// Elements of the workspace: the logits and every intermediate activation (4,586 for LeNet-5).
const WORKSPACE: usize = <LeNet5 as Infer<In>>::WORKSPACE_LEN;
/// Elements of one input image.
const INPUT: usize = <In as typed_cnn::infer::Layout>::LEN;

#[entry]
fn main() -> ! {
    paint_stack();
    let net = match SafeTensors::parse(WEIGHTS).and_then(|file| LeNet5::view(&file)) {
        Ok(net) => net,
        Err(e) => fail(format_args!("weights: {e}")),
    };
    // In .bss, sized by the compiler: `size` shows them.
    let workspace = cortex_m::singleton!(: [f32; WORKSPACE] = [0.0; WORKSPACE]).unwrap();
    let x = cortex_m::singleton!(: [f32; INPUT] = [0.0; INPUT]).unwrap();
    let mut syst = cortex_m::Peripherals::take().unwrap().SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00FF_FFFF);
    syst.clear_current();
    syst.enable_counter();

    let mut ticks = [0u32; COUNT];
    let mut hash = FNV_OFFSET;
    hprint!("digits:");
    for (i, image) in DIGITS.chunks_exact(784).take(COUNT).enumerate() {
        for (v, &p) in x.iter_mut().zip(image) {
            *v = f32::from(p) / 255.0; // as the desktop's MNIST loader scales pixels
        }
        let start = SYST::get_current();
        let logits = match net.infer::<In>(x, workspace) {
            Ok(logits) => logits,
            Err(e) => fail(format_args!("infer: {e}")),
        };
        // SysTick counts down, 24 bits
        ticks[i] = start.wrapping_sub(SYST::get_current()) & 0x00FF_FFFF;
        hash = fnv1a(hash, logits);
        hprint!(" {}", argmax(logits));
    }
    hprint!("\nlogits FNV-1a: {:016x}", hash);
    hprint!("\nlabels:");
    for &label in &DIGITS[COUNT * 784..] {
        hprint!(" {}", label);
    }
    let (min, max) = (ticks.iter().min().unwrap(), ticks.iter().max().unwrap());
    // Calibration: cortex-m 0.7.10's `delay(n)` runs n + 1 iterations of a 2-instruction loop
    // (`subs`, `bne`): 8,000,002 instructions for n = 4,000,000, which must take 200,000 ticks.
    let start = SYST::get_current();
    cortex_m::asm::delay(4_000_000);
    let calibration = start.wrapping_sub(SYST::get_current()) & 0x00FF_FFFF;
    hprintln!(
        "\ninstructions per inference: {} to {} (SysTick {} to {} ticks of {} instructions)",
        min * TICK,
        max * TICK,
        min,
        max,
        TICK
    );
    hprintln!("calibration: an 8,000,002-instruction loop took {} ticks", calibration);
    hprintln!("stack: {} bytes at most (painted before, scanned after)", stack_used());
    hprintln!(
        "memory (compile-time constants): weights {} B in flash, workspace {} B, input {} B",
        <LeNet5 as Infer<In>>::WEIGHT_BYTES,
        <LeNet5 as Infer<In>>::ACTIVATION_BYTES,
        <LeNet5 as Infer<In>>::INPUT_BYTES
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {}
}

/// Instructions per SysTick tick under `qemu -icount shift=0`: each instruction advances the
/// virtual clock by 1 ns (2⁰), and mps2-an386's SysTick runs at its 25 MHz core clock, one tick
/// per 40 ns.
const TICK: u32 = 40;

/// The pattern unused stack keeps.
const PAINT: u32 = 0xA5A5_A5A5;

extern "C" {
    /// End of `.bss` and `.uninit`: the lowest address the stack may grow to (cortex-m-rt).
    static _stack_end: u32;
    /// Top of RAM, where the stack starts (cortex-m-rt).
    static _stack_start: u32;
}

/// Fills the free RAM between the statics and the current stack pointer (less a margin for this
/// function's own frame) with [`PAINT`], so that [`stack_used`] can find the deepest word the
/// stack reached.
fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize - 64;
    let mut p = core::ptr::addr_of!(_stack_end) as usize; // a linker symbol's address
    while p < sp {
        // SAFETY: [_stack_end, sp − 64) is RAM that no static and no live stack frame uses
        // (statics end at `_stack_end`, the stack is above `sp`); the write is word-aligned
        // (cortex-m-rt aligns `_stack_end` to 4) and volatile, so it is not elided.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// The most bytes of stack used since [`paint_stack`]: from the top of RAM down to the lowest
/// word that no longer holds the pattern.
fn stack_used() -> usize {
    // linker symbols: only their addresses are taken
    let (end, top) =
        (core::ptr::addr_of!(_stack_end) as usize, core::ptr::addr_of!(_stack_start) as usize);
    let mut p = end;
    // SAFETY: reads of word-aligned RAM between the statics and the top of the stack.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    top - p
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over the logits' bits: equal hashes, bit-identical logits (`embedded_digits` computes
/// the same on the desktop with `infer`).
fn fnv1a(mut hash: u64, logits: &[f32]) -> u64 {
    for v in logits {
        for byte in v.to_bits().to_le_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

fn fail(msg: core::fmt::Arguments) -> ! {
    hprintln!("error: {}", msg);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
