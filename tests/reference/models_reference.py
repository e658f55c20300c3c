"""Reference outputs for ptx-models, from segmentation_models_pytorch 0.6.0 / torchvision / timm.

Every model is built with random weights under a fixed seed (batch-norm statistics and affine
parameters randomised too, so eval-mode batch norm is not the identity), then saved as
safetensors with an input, the eval-mode output and its state-dict keys. Models with no library
counterpart (ASPP centre, hypercolumns, plain U-Net, plain encoder) are written here as PyTorch
modules built from the library's own blocks.

Usage: models_reference.py --out DIR [--only NAME...]
Writes DIR/<case>/{weights.safetensors, input.npy, output.npy[, labels.npy], keys.json, case.json}.
"""
import argparse
import collections
import json
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

import segmentation_models_pytorch as smp
from segmentation_models_pytorch.base import modules as md
from segmentation_models_pytorch.base.heads import SegmentationHead
from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoder
from segmentation_models_pytorch.encoders._utils import patch_first_conv
import timm
import torchvision
from torchvision.models.segmentation.deeplabv3 import ASPP

torch.set_num_threads(int(os.environ.get("PTX_REF_THREADS", "1")))
torch.use_deterministic_algorithms(True)


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model


def calibrate(model, shape, seed):
    """Sets batch-norm running statistics to those of two random batches (cumulative average), as
    a trained network's would match its activations; keeps eval-mode outputs O(1) however deep."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return model
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(shape, generator=g))
    for m, mom in zip(bns, momenta):
        m.momentum = mom
        m.num_batches_tracked.fill_(seed % 7)
    model.eval()
    return model


def state(model):
    return {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}


def save_case(out, name, model, x, config, extra=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    calibrate(model, (2,) + tuple(x.shape[1:]), len(name))
    model.eval()
    with torch.no_grad():
        y = model(x)
    labels = None
    if isinstance(y, tuple):
        y, labels = y
    sd = state(model)
    save_file(sd, os.path.join(d, "weights.safetensors"))
    np.save(os.path.join(d, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(d, "output.npy"), y.numpy().astype(np.float32))
    if labels is not None:
        np.save(os.path.join(d, "labels.npy"), labels.numpy().astype(np.float32))
    with open(os.path.join(d, "keys.json"), "w") as f:
        json.dump({k: list(v.shape) for k, v in sd.items()}, f)
    case = {"config": config, "output_abs_max": float(y.abs().max())}
    case.update(extra or {})
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
    print(f"{name}: output {tuple(y.shape)} |max| {case['output_abs_max']:.3g}, {len(sd)} keys")
    return sd


def unet(encoder, seed=0, **kw):
    torch.manual_seed(seed)
    model = smp.Unet(encoder, encoder_weights=None, **kw)
    if "inception" in encoder:
        # timm initialises InceptionV3 with N(0, 0.1) convolutions, which with eval-mode batch norm
        # on random statistics grows activations to ~1e11; fan-in scaling keeps them O(1).
        for m in model.encoder.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="linear")
    return randomize(model, seed)


def inputs(seed, shape):
    g = torch.Generator().manual_seed(1000 + seed)
    return torch.randn(shape, generator=g)


# --- modules without a library counterpart --------------------------------------------------

class AsppUnet(nn.Module):
    """smp Unet whose centre is torchvision's ASPP(512, [6, 12, 18], 256)."""

    def __init__(self, encoder, aux=None):
        super().__init__()
        base = smp.Unet(encoder, encoder_weights=None, aux_params=aux)
        self.encoder = base.encoder
        ch = list(self.encoder.out_channels)
        deepest = ch[-1]
        ch[-1] = 256
        self.decoder = UnetDecoder(ch, (256, 128, 64, 32, 16), n_blocks=5)
        self.decoder.center = ASPP(deepest, [6, 12, 18], 256)
        self.segmentation_head = SegmentationHead(16, 1, kernel_size=3)
        self.classification_head = None
        if aux is not None:
            self.classification_head = smp.base.heads.ClassificationHead(in_channels=256, **aux)

    def forward(self, x):
        f = self.encoder(x)
        c = self.decoder.center(f[-1])
        labels = self.classification_head(c) if self.classification_head is not None else None
        # the decoder applies its centre itself
        y = self.segmentation_head(self.decoder(f))
        return (y, labels) if labels is not None else y


class AvgMaxHead(nn.Sequential):
    """Haghanifar et al.'s classifier: average and max pooling concatenated, dropout, linear
    (keys as smp's ClassificationHead: `3.weight`, `3.bias`)."""

    def __init__(self, cin, classes, dropout=0.2):
        super().__init__(nn.Identity(), nn.Identity(), nn.Dropout(dropout), nn.Linear(2 * cin, classes))

    def forward(self, x):
        pooled = torch.cat([F.adaptive_avg_pool2d(x, 1).flatten(1), F.adaptive_max_pool2d(x, 1).flatten(1)], 1)
        return self[3](self[2](pooled))


def avgmax_unet(seed):
    model = unet("densenet121", seed, aux_params={"classes": 1})
    model.classification_head = AvgMaxHead(1024, 1)
    return randomize(model, seed)


class HypercolumnUnet(nn.Module):
    """smp Unet whose head sees every decoder block's output, bilinearly upsampled and concatenated."""

    def __init__(self, encoder, attention=None):
        super().__init__()
        base = smp.Unet(encoder, encoder_weights=None, decoder_attention_type=attention)
        self.encoder = base.encoder
        self.decoder = base.decoder
        self.segmentation_head = SegmentationHead(256 + 128 + 64 + 32 + 16, 1, kernel_size=3)

    def forward(self, x):
        features = self.encoder(x)
        d = self.decoder
        shapes = [f.shape[2:] for f in features][::-1]
        feats = features[1:][::-1]
        head, skips = feats[0], feats[1:]
        y = d.center(head)
        outs = []
        for i, block in enumerate(d.blocks):
            h, w = shapes[i + 1]
            y = block(y, h, w, skip_connection=skips[i] if i < len(skips) else None)
            outs.append(y)
        h, w = outs[-1].shape[2:]
        cat = torch.cat([F.interpolate(o, size=(h, w), mode="bilinear", align_corners=False) for o in outs], 1)
        return self.segmentation_head(cat)


class ConvBlock(nn.Sequential):
    """`blocks.I.J` = Conv2d 3x3 (+ `bn`) + ReLU, as ptx's plain blocks name them."""

    def __init__(self, cin, cout, convs, bn):
        layers = []
        for j in range(convs):
            layers.append(PlainConv(cin if j == 0 else cout, cout, bn))
        super().__init__(*layers)


class PlainConv(nn.Conv2d):
    def __init__(self, cin, cout, bn):
        super().__init__(cin, cout, 3, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(cout) if bn else None

    def forward(self, x):
        y = super().forward(x)
        if self.bn is not None:
            y = self.bn(y)
        return F.relu(y)


class PlainEncoder(nn.Module):
    def __init__(self, cin, base, convs, bn, n):
        super().__init__()
        chans = [base << min(i, 4) for i in range(n)]
        self.blocks = nn.ModuleList()
        for i, c in enumerate(chans):
            self.blocks.append(ConvBlock(cin, c, convs, bn))
            cin = c
        self.out_channels = chans + [chans[-1]]

    def block_outputs(self, x):
        outs = []
        for i, b in enumerate(self.blocks):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = b(x)
            outs.append(x)
        return outs

    def forward(self, x):
        outs = self.block_outputs(x)
        return outs + [F.max_pool2d(outs[-1], 2)]


class PlainEncoderUnet(nn.Module):
    """smp's U-Net decoder (with its VGG-style centre block) on the plain encoder."""

    def __init__(self, convs, base=16, bn=False):
        super().__init__()
        self.encoder = PlainEncoder(3, base, convs, bn, 5)
        self.decoder = UnetDecoder(self.encoder.out_channels, (256, 128, 64, 32, 16), n_blocks=5,
                                   add_center_block=True)
        self.segmentation_head = SegmentationHead(16, 1, kernel_size=3)

    def forward(self, x):
        return self.segmentation_head(self.decoder(self.encoder(x)))


class PlainUnet(nn.Module):
    """Ronneberger's U-Net with `convs` convolutions per block, transposed-conv upsampling."""

    def __init__(self, cin, base, convs, depth, bn=False):
        super().__init__()
        self.encoder = PlainEncoder(cin, base, convs, bn, depth + 1)
        chans = [base << min(i, 4) for i in range(depth + 1)]
        self.decoder = nn.Module()
        self.decoder.up = nn.ModuleList()
        self.decoder.blocks = nn.ModuleList()
        c = chans[-1]
        for k in range(depth):
            skip = chans[depth - 1 - k]
            self.decoder.up.append(nn.ConvTranspose2d(c, c // 2, 2, stride=2))
            self.decoder.blocks.append(ConvBlock(c // 2 + skip, skip, convs, bn))
            c = skip
        self.segmentation_head = nn.Sequential(nn.Conv2d(c, 1, 1))

    def forward(self, x):
        skips = self.encoder.block_outputs(x)
        y = skips.pop()
        for up, block in zip(self.decoder.up, self.decoder.blocks):
            y = block(torch.cat([up(y), skips.pop()], 1))
        return self.segmentation_head(y)


# --- cases ------------------------------------------------------------------------------------

ENCODERS = ["resnet18", "resnet34", "resnet50", "densenet121", "se_resnext50_32x4d", "vgg16", "vgg16_bn",
            "vgg19", "vgg19_bn"] + [f"efficientnet-b{i}" for i in range(8)] + ["tu-inception_v3"]


def encoder_cases(out, only):
    for i, enc in enumerate(ENCODERS):
        name = f"enc_{enc}"
        if only and name not in only:
            continue
        shape = (1, 3, 160, 128) if "inception" in enc else (2, 3, 64, 96)
        model = unet(enc, seed=i)
        rust_name = "inceptionv3" if "inception" in enc else enc
        save_case(out, name, model, inputs(i, shape), {"arch": "unet", "encoder": rust_name})


def decoder_cases(out, only):
    x = inputs(50, (2, 3, 64, 64))
    cases = {
        "dec_scse": (lambda: unet("resnet34", 50, decoder_attention_type="scse"),
                     {"decoder": {"attention": "scse"}}),
        "dec_center_conv": (None, {"decoder": {"center": "conv"}}),
        "dec_aspp": (lambda: randomize(AsppUnet("resnet34"), 52), {"decoder": {"center": "aspp"}}),
        "dec_hypercolumns": (lambda: randomize(HypercolumnUnet("resnet34"), 53), {"decoder": {"hypercolumns": True}}),
        "dec_aux_avg": (lambda: unet("resnet34", 54, aux_params={"classes": 1, "pooling": "avg", "dropout": 0.5}),
                        {"classifier": {"classes": 1, "pooling": "avg", "dropout": 0.5}}),
        "dec_aux_max": (lambda: unet("resnet34", 55, aux_params={"classes": 2, "pooling": "max"}),
                        {"classifier": {"classes": 2, "pooling": "max"}}),
        "dec_aspp_aux_center": (lambda: randomize(AsppUnet("resnet34", aux={"classes": 1, "pooling": "avg"}), 56),
                                {"decoder": {"center": "aspp"}, "classifier": {"pooling": "avg", "input": "center"}}),
        "dec_aux_avgmax_densenet": (lambda: avgmax_unet(59),
                                    {"encoder": "densenet121", "classifier": {"pooling": "avg_max"}}),
        "dec_no_bn": (lambda: unet("resnet34", 57, decoder_use_norm=False), {"decoder": {"batch_norm": False}}),
        "dec_classes3_in1": (lambda: unet("resnet34", 58, classes=3, in_channels=1), {"classes": 3, "in_channels": 1}),
    }
    for name, (build, config) in cases.items():
        if only and name not in only:
            continue
        if name == "dec_center_conv":
            torch.manual_seed(51)
            model = smp.Unet("resnet34", encoder_weights=None)
            model.decoder.center = smp.decoders.unet.decoder.UnetCenterBlock(512, 512)
            model = randomize(model, 51)
        else:
            torch.manual_seed(0)
            model = build()
        xin = x if config.get("in_channels", 3) == 3 else x[:, :1].contiguous()
        config = dict({"arch": "unet", "encoder": "resnet34"}, **config)
        save_case(out, name, model, xin, config)


def plain_cases(out, only):
    for convs in (2, 3):
        name = f"plain_unet_{convs}"
        if not only or name in only:
            torch.manual_seed(60 + convs)
            model = randomize(PlainUnet(1, 8, convs, 4, bn=False), 60 + convs)
            save_case(out, name, model, inputs(60 + convs, (2, 1, 48, 64)),
                      {"arch": "plain_unet", "in_channels": 1, "depth": 4,
                       "blocks": {"convs_per_block": convs, "base_channels": 8, "batch_norm": False}})
    name = "plain_unet_bn"
    if not only or name in only:
        torch.manual_seed(64)
        model = randomize(PlainUnet(1, 8, 3, 3, bn=True), 64)
        save_case(out, name, model, inputs(64, (2, 1, 40, 56)),
                  {"arch": "plain_unet", "in_channels": 1, "depth": 3,
                   "blocks": {"convs_per_block": 3, "base_channels": 8, "batch_norm": True}})
    name = "enc_plain"
    if not only or name in only:
        torch.manual_seed(65)
        model = randomize(PlainEncoderUnet(3, base=16), 65)
        save_case(out, name, model, inputs(65, (2, 3, 64, 64)),
                  {"arch": "unet", "encoder": "plain",
                   "plain": {"convs_per_block": 3, "base_channels": 16, "batch_norm": False}})


def import_cases(out, only):
    """Classifier checkpoints as users have them, and what the encoder must hold after import."""
    d = os.path.join(out, "imports")
    os.makedirs(d, exist_ok=True)
    expected = {}

    def record(name, path, encoder, sd, in_channels=3):
        # the encoder tensors ptx must end up with, as smp's encoder.load_state_dict gives them
        expected[name] = {"file": os.path.basename(path), "encoder": encoder, "in_channels": in_channels}
        save_file({"encoder." + k: v.contiguous() for k, v in sd.items()}, os.path.join(d, name + ".expected.safetensors"))

    if only and "imports" not in only:
        return
    torch.manual_seed(70)
    tv = randomize(torchvision.models.resnet34(), 70)
    path = os.path.join(d, "torchvision_resnet34.pth")
    torch.save(tv.state_dict(), path)
    enc = smp.Unet("resnet34", encoder_weights=None).encoder
    sd = tv.state_dict()
    sd.pop("fc.weight"); sd.pop("fc.bias")
    enc.load_state_dict(sd)
    record("torchvision_resnet34", path, "resnet34", state(enc))

    # in_channels 1 and 4: smp's patch_first_conv on pretrained weights
    for c in (1, 4):
        enc_c = smp.Unet("resnet34", encoder_weights=None).encoder
        enc_c.load_state_dict(sd)
        patch_first_conv(enc_c, c, pretrained=True)
        first = {"conv1.weight": enc_c.conv1.weight.detach().clone()}
        record(f"torchvision_resnet34_in{c}", path, "resnet34", first, in_channels=c)

    # CheXNet: DataParallel(DenseNet121 wrapper) saved by PyTorch 0.3 with old layer names, legacy format
    torch.manual_seed(71)
    dn = randomize(torchvision.models.densenet121(), 71)
    old = collections.OrderedDict()
    for k, v in dn.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue  # PyTorch 0.3 had none
        k2 = re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k)
        k2 = k2.replace("classifier.", "classifier.0.")
        old["module.densenet121." + k2] = v
    path = os.path.join(d, "chexnet.pth.tar")
    torch.save({"epoch": 1, "arch": "densenet121", "state_dict": old, "best_loss": 0.5}, path,
               _use_new_zipfile_serialization=False)
    enc = smp.Unet("densenet121", encoder_weights=None).encoder
    sd = dn.state_dict()
    sd.pop("classifier.weight"); sd.pop("classifier.bias")
    enc.load_state_dict(sd)
    expected_sd = {k: v for k, v in state(enc).items() if not k.endswith("num_batches_tracked")}
    record("chexnet", path, "densenet121", expected_sd)

    # timm seresnext50_32x4d and inception_v3 classifiers
    torch.manual_seed(72)
    tm = randomize(timm.create_model("seresnext50_32x4d", pretrained=False), 72)
    path = os.path.join(d, "timm_seresnext50_32x4d.pth")
    torch.save(tm.state_dict(), path)
    mapped = {}
    for k, v in tm.state_dict().items():
        if k.startswith("fc."):
            continue
        k2 = k
        if k2.startswith("conv1.") or k2.startswith("bn1."):
            k2 = "layer0." + k2
        k2 = k2.replace(".se.fc", ".se_module.fc")
        mapped[k2] = v
    enc = smp.Unet("se_resnext50_32x4d", encoder_weights=None).encoder
    enc.load_state_dict(mapped)
    record("timm_seresnext50_32x4d", path, "se_resnext50_32x4d", state(enc))

    torch.manual_seed(73)
    ti = randomize(timm.create_model("inception_v3", pretrained=False), 73)
    path = os.path.join(d, "timm_inception_v3.safetensors")
    save_file(state(ti), path)
    enc = smp.Unet("tu-inception_v3", encoder_weights=None).encoder
    enc.model.load_state_dict({k: v for k, v in ti.state_dict().items() if not k.startswith("fc.")})
    record("timm_inception_v3", path, "inceptionv3", state(enc))

    # A whole smp model saved with torch.save (zip format) through DataParallel
    torch.manual_seed(74)
    m = unet("resnet18", 74)
    path = os.path.join(d, "smp_unet_resnet18_dataparallel.pth")
    torch.save(nn.DataParallel(m).state_dict(), path)
    save_file({k: v for k, v in state(m).items()}, os.path.join(d, "smp_unet_resnet18_dataparallel.expected.safetensors"))
    expected["smp_unet_resnet18_dataparallel"] = {"file": os.path.basename(path), "encoder": "resnet18", "in_channels": 3}
    with open(os.path.join(d, "imports.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(f"imports: {len(expected)} checkpoints")


def train_step_case(out, only):
    """One Adam step of smp's U-Net ResNet34 in training mode on BCE-with-logits."""
    name = "train_step"
    if only and name not in only:
        return
    torch.manual_seed(80)
    model = randomize(smp.Unet("resnet34", encoder_weights=None), 80)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    save_file(state(model), os.path.join(d, "before.safetensors"))
    x = inputs(80, (2, 3, 64, 64))
    g = torch.Generator().manual_seed(81)
    target = (torch.rand((2, 1, 64, 64), generator=g) > 0.7).float()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(x), target)
    loss.backward()
    opt.step()
    save_file(state(model), os.path.join(d, "after.safetensors"))
    np.save(os.path.join(d, "input.npy"), x.numpy())
    np.save(os.path.join(d, "target.npy"), target.numpy())
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"loss": float(loss.detach()), "lr": 1e-3}, f)
    print(f"train_step: loss {float(loss.detach()):.6f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*", default=[])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(a.only)
    encoder_cases(a.out, only)
    decoder_cases(a.out, only)
    plain_cases(a.out, only)
    import_cases(a.out, only)
    train_step_case(a.out, only)


if __name__ == "__main__":
    sys.exit(main())
