//! A small U-Net (Ronneberger et al. 2015) for segmentation: two downsampling levels, transposed
//! convolutions up, the encoder's features concatenated into the decoder at each level.

use crate::Float;
use crate::layers::{BatchNorm2d, Conv2d, ConvTranspose2d, MaxPool2d, Relu};
use crate::param::{Bias, NoBias};
use crate::shape::Exact;

/// Two 3×3 convolutions (padding 1, no bias), each followed by batch norm and ReLU: a U-Net
/// level's `nn.Sequential` (names `0.weight`, `1.*`, `3.weight`, `4.*`).
pub type DoubleConv<const CIN: usize, const COUT: usize, E = f32> = (
    Conv2d<CIN, COUT, 3, 1, 1, Exact, E, NoBias>,
    BatchNorm2d<COUT, E>,
    Relu,
    Conv2d<COUT, COUT, 3, 1, 1, Exact, E, NoBias>,
    BatchNorm2d<COUT, E>,
    Relu,
);

crate::network! {
    /// A small U-Net: `IN` input channels, `CLASSES` output maps (logits per pixel), widths 16,
    /// 32 and 64. Input `(N, IN, H, W)` with `H` and `W` multiples of 4 (two 2×2 poolings; any
    /// other size is a compile error), output `(N, CLASSES, H, W)`.
    ///
    /// `inc` (16 channels at full size) → `down1` (pool, 32 at ½) → `down2` (pool, 64 at ¼) →
    /// `up2` (2×2 transposed conv, 32 at ½) → concatenated after `down1`'s output (64) → `dec2`
    /// (32) → `up1` (16 at full size) → concatenated after `inc`'s output (32) → `dec1` (16) →
    /// `outc` (1×1 conv with bias).
    ///
    /// **PyTorch equivalent**: the module in `tests/fixtures/make_torch_models.py` (`UNet`), whose
    /// state dict loads into it strictly by name. **Parameters**: 117,344 + 17·`CLASSES`
    /// for `IN` = 3 (each input channel adds 144).
    ///
    /// ```
    /// use typed_cnn::{models::UNet, prelude::*};
    /// let net = UNet::<3, 2>::init(&mut rand::rng());
    /// let masks: Tensor<1, 2, 48, 64> = net.forward(Tensor::<1, 3, 48, 64>::zeros());
    /// # let _ = masks;
    /// assert_eq!(Params::<f32>::param_count(&net), 117_344 + 17 * 2);
    /// ```
    pub struct UNet<const IN: usize, const CLASSES: usize, E: Float = f32> {
        /// Full size, 16 channels.
        pub inc: DoubleConv<IN, 16, E>,
        /// ½ size, 32 channels.
        pub down1: (MaxPool2d<2>, DoubleConv<16, 32, E>),
        /// ¼ size, 64 channels.
        pub down2: (MaxPool2d<2>, DoubleConv<32, 64, E>),
        /// Back to ½ size: 64 → 32 channels.
        pub up2: ConvTranspose2d<64, 32, 2, 2, 0, 0, E, Bias>,
        /// On the concatenation of `down1`'s output and `up2`'s (64 channels).
        pub dec2: DoubleConv<64, 32, E>,
        /// Back to full size: 32 → 16 channels.
        pub up1: ConvTranspose2d<32, 16, 2, 2, 0, 0, E, Bias>,
        /// On the concatenation of `inc`'s output and `up1`'s (32 channels).
        pub dec1: DoubleConv<32, 16, E>,
        /// Per-pixel logits.
        pub outc: Conv2d<16, CLASSES, 1, 1, 0, Exact, E, Bias>,
    }
    forward: inc -> cat(identity, down1 -> cat(identity, down2 -> up2) -> dec2 -> up1) -> dec1 -> outc
}
