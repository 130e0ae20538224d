//! The model zoo: networks people deploy, with torchvision's layout and module names, so that a
//! state dict saved from PyTorch (as safetensors) loads into them strictly by name.
//!
//! | model | PyTorch equivalent | parameters |
//! |---|---|---|
//! | [`LeNet5`] | LeNet-5 for 28×28 digits (the `mnist` example's network; also without `std`) | 44,426 |
//! | [`ResNet18<K>`](resnet::ResNet18) | `torchvision.models.resnet18(num_classes=K)` | 11,176,512 + 513·K (11,689,512 for K = 1000) |
//! | [`ResNet34<K>`](resnet::ResNet34) | `torchvision.models.resnet34(num_classes=K)` | 21,284,672 + 513·K (21,797,672 for K = 1000) |
//! | [`UNet<IN, K>`](unet::UNet) | a small U-Net (16/32/64, transposed convolutions, concatenated skips) | 117,344 + 17·K for IN = 3 |
//! | [`MobileNetV2<K>`](mobilenet::MobileNetV2) | `torchvision.models.mobilenet_v2(num_classes=K)` | 2,223,872 + 1281·K (3,504,872 for K = 1000) |
//!
//! Their blocks ([`resnet::BasicBlock`], [`resnet::DownBlock`]) are public, for ResNets of
//! other depths and inputs (the `resnet` example builds a CIFAR-style one on them).
//!
//! Each model takes any input size its strides admit, as PyTorch does: the sizes are computed
//! at compile time with PyTorch's floor rule where torchvision relies on it, and a size too
//! small for a layer is a compile error.

mod lenet;
pub mod mobilenet;
pub mod resnet;
pub mod unet;

pub use lenet::LeNet5;
pub use mobilenet::MobileNetV2;
pub use resnet::{BasicBlock, DownBlock, ResNet18, ResNet34};
pub use unet::UNet;
