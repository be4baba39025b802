#!/usr/bin/env python3
"""PyTorch reference networks of mixup-run's architectures, and what we check against them.

The module definitions below follow the official Manifold Mixup code (PreActResNet as in
kuangliu/pytorch-cifar; the official Wide-ResNet variant), with their module names, so that
their state_dict keys are the names mixup-run uses. Two jobs:

  fixtures      write test/fixtures/parity/*.npz + index.json: for a few small configurations,
                the weights and an input batch (values on an exact int8 grid, to keep the
                files small), and in training mode (mixing at layer k with a fixed lambda and
                permutation) and in eval mode the logits, the loss (BCE on softmax against the
                target), the gradient of every parameter (and of the input, in eval mode), and
                the running statistics after the training-mode forward. The reference runs in
                float64. test/models/parity.test.ts replays them.
  check-export  load the file written by `mixup-run export --format pytorch-npz` into the
                reference network and evaluate it on the full embedded Fashion-MNIST test set;
                with --ours (logits from scripts/eval-checkpoint.ts) compare the two.

Needs PyTorch and NumPy (Debian: apt-get install python3-torch; run with /usr/bin/python3).
  /usr/bin/python3 scripts/pytorch-parity.py fixtures
  /usr/bin/python3 scripts/pytorch-parity.py check-export --run RUN_DIR --npz FILE [--ours OURS.npz]
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- reference networks

class PreActBlock(nn.Module):
    """Basic pre-activation block (PreActResNet18/34)."""
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, self.expansion * planes, 1, stride=stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, 'shortcut') else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActBottleneck(nn.Module):
    """Bottleneck pre-activation block (PreActResNet50/101/152), expansion 4."""
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, self.expansion * planes, 1, bias=False)
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, self.expansion * planes, 1, stride=stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, 'shortcut') else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        return out + shortcut


def mix(h, m):
    """Manifold Mixup of a hidden state: lam*h + (1-lam)*h[perm]."""
    lam, perm = m
    return h * lam + h[perm] * (1 - lam)


class PreActResNet(nn.Module):
    """The official PreActResNet; `final_bn` adds He et al.'s BN-ReLU before pooling (module `bn`)."""

    def __init__(self, block, num_blocks, width=64, num_classes=10, in_channels=3, stem_stride=1, final_bn=False):
        super().__init__()
        self.in_planes = width
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=stem_stride, padding=1, bias=False)
        self.layer1 = self._make_layer(block, width, num_blocks[0], 1)
        self.layer2 = self._make_layer(block, width * 2, num_blocks[1], 2)
        self.layer3 = self._make_layer(block, width * 4, num_blocks[2], 2)
        self.layer4 = self._make_layer(block, width * 8, num_blocks[3], 2)
        if final_bn:
            self.bn = nn.BatchNorm2d(width * 8 * block.expansion)
        self.linear = nn.Linear(width * 8 * block.expansion, num_classes)

    def _make_layer(self, block, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x, mix_layer=None, mixing=None):
        out = mix(x, mixing) if mix_layer == 0 else x
        out = self.layer1(self.conv1(out))
        if mix_layer == 1:
            out = mix(out, mixing)
        out = self.layer2(out)
        if mix_layer == 2:
            out = mix(out, mixing)
        out = self.layer3(out)
        if mix_layer == 3:
            out = mix(out, mixing)
        out = self.layer4(out)
        if hasattr(self, 'bn'):
            out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


class WideBasic(nn.Module):
    """The official WRN block: biases, stride on conv2, shortcut on the raw input, no dropout."""

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=True)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=True))

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return out + self.shortcut(x)


class WideResNet(nn.Module):
    """The official Wide_ResNet; `width` is the stem's channel count (16 in the paper)."""

    def __init__(self, depth, k, width=16, num_classes=10, in_channels=3, stem_stride=1):
        super().__init__()
        n = (depth - 4) // 6
        stages = [width, width * k, 2 * width * k, 4 * width * k]
        self.in_planes = width
        self.conv1 = nn.Conv2d(in_channels, stages[0], 3, stride=stem_stride, padding=1, bias=True)
        self.layer1 = self._make_layer(stages[1], n, 1)
        self.layer2 = self._make_layer(stages[2], n, 2)
        self.layer3 = self._make_layer(stages[3], n, 2)
        self.bn1 = nn.BatchNorm2d(stages[3], momentum=0.9)
        self.linear = nn.Linear(stages[3], num_classes)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(WideBasic(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x, mix_layer=None, mixing=None):
        out = mix(x, mixing) if mix_layer == 0 else x
        out = self.layer1(self.conv1(out))
        if mix_layer == 1:
            out = mix(out, mixing)
        out = self.layer2(out)
        if mix_layer == 2:
            out = mix(out, mixing)
        out = self.layer3(out)
        if mix_layer == 3:
            out = mix(out, mixing)
        out = F.relu(self.bn1(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


PREACT = {
    'preactresnet18': (PreActBlock, [2, 2, 2, 2]),
    'preactresnet34': (PreActBlock, [3, 4, 6, 3]),
    'preactresnet50': (PreActBottleneck, [3, 4, 6, 3]),
    'preactresnet101': (PreActBottleneck, [3, 4, 23, 3]),
    'preactresnet152': (PreActBottleneck, [3, 8, 36, 3]),
}
WRN = {'wrn28_10': (28, 10), 'wrn28_2': (28, 2)}


def build(arch, width, classes, in_channels, size, final_bn=False):
    stem_stride = 2 if size >= 64 else 1
    if arch in PREACT:
        block, depths = PREACT[arch]
        return PreActResNet(block, depths, width, classes, in_channels, stem_stride, final_bn)
    depth, k = WRN[arch]
    assert not final_bn
    return WideResNet(depth, k, width, classes, in_channels, stem_stride)


def bce_on_softmax(logits, target):
    """The official training loss: BCELoss on softmax probabilities, mean over batch x classes."""
    return nn.BCELoss()(F.softmax(logits, dim=1), target)


# ---------------------------------------------------------------- fixtures

# Small configurations: every block type, every mixing boundary, both stem strides.
CONFIGS = [
    dict(name='preact18-basic', arch='preactresnet18', width=3, size=32, channels=3, batch=4, mix_layer=2, lam=0.375),
    dict(name='preact50-bottleneck-finalbn', arch='preactresnet50', width=2, size=32, channels=3, batch=4, mix_layer=1, lam=0.625, final_bn=True),
    dict(name='wrn28_2', arch='wrn28_2', width=1, size=32, channels=3, batch=4, mix_layer=3, lam=0.3125),
    dict(name='preact18-stem64', arch='preactresnet18', width=2, size=64, channels=1, batch=2, mix_layer=0, lam=0.8125),
]
CLASSES = 10


def randomize_batchnorm(model, g):
    """BN affine parameters and running statistics away from their init, so each one matters."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.2 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))


def quantize(t):
    """t rounded to k * 2**-e with int8 k: exact in float32 and float64, one byte per value."""
    peak = t.abs().max().item()
    e = int(np.floor(np.log2(127 / peak))) if peak > 0 else 0
    k = torch.round(t * 2.0 ** e).clamp(-127, 127)
    return k.to(torch.int8).numpy(), e, k.double() / 2.0 ** e


def f32(t):
    return t.detach().to(torch.float32).contiguous().numpy()


def flat(tensors):
    return np.concatenate([f32(t).ravel() for t in tensors]) if tensors else np.zeros(0, np.float32)


def make_fixture(cfg, seed):
    """Arrays of one configuration, and the list of its state_dict tensors (the layout of 'state')."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = build(cfg['arch'], cfg['width'], CLASSES, cfg['channels'], cfg['size'], cfg.get('final_bn', False))
    randomize_batchnorm(model, g)
    # Float32-exact values, computed in float64: the reference is exact up to our rounding.
    model = model.double()
    tensors = [(k, v) for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')]
    trainable = {k for k, _ in model.named_parameters()}
    state_q, state_e = [], []
    with torch.no_grad():
        for k, v in tensors:
            q, e, exact = quantize(v)
            v.copy_(exact)
            state_q.append(q.ravel())
            state_e.append(e)
    n, s, c = cfg['batch'], cfg['size'], cfg['channels']
    x_q, x_e, x = quantize(torch.randn(n, c, s, s, generator=g))
    labels = torch.randint(CLASSES, (n,), generator=g)
    perm = torch.randperm(n, generator=g)
    lam = cfg['lam']
    onehot = F.one_hot(labels, CLASSES).double()
    out = {
        'state': np.concatenate(state_q), 'state_exp': np.array(state_e, np.int8),
        'x': x_q, 'x_exp': np.array(x_e, np.int8),
        'labels': labels.numpy().astype(np.int32), 'perm': perm.numpy().astype(np.int32),
    }
    params = dict(model.named_parameters())
    grads_of = lambda: flat([params[k].grad for k, _ in tensors if k in trainable])

    # Training mode: batch statistics, mixing at layer k, running statistics updated once.
    model.train()
    logits = model(x, cfg['mix_layer'], (lam, perm))
    target = onehot * lam + onehot[perm] * (1 - lam)
    loss = bce_on_softmax(logits, target)
    loss.backward()
    out['train_logits'], out['train_loss'], out['train_grads'] = f32(logits), f32(loss), grads_of()
    out['train_running'] = flat([v for k, v in model.state_dict().items() if 'running_' in k])

    # Eval mode with the updated running statistics: no mixing, one-hot targets, and the
    # gradient with respect to the input too (what an FGSM attack uses).
    model.eval()
    model.zero_grad()
    xe = x.clone().requires_grad_(True)
    logits = model(xe)
    loss = bce_on_softmax(logits, onehot)
    loss.backward()
    out['eval_logits'], out['eval_loss'], out['eval_grads'] = f32(logits), f32(loss), grads_of()
    out['eval_grad_input'] = f32(xe.grad)
    layout = [{'name': k, 'shape': list(v.shape), 'trainable': k in trainable} for k, v in tensors]
    return out, layout


def cmd_fixtures(args):
    os.makedirs(args.out, exist_ok=True)
    index = {
        'generated_by': 'scripts/pytorch-parity.py fixtures',
        'torch_version': torch.__version__,
        'about': (
            'PyTorch layout (x [N, C, H, W], conv [out, in, kh, kw], linear [out, in]). '
            "'state' holds the state_dict tensors listed in 'tensors', flattened and concatenated, as "
            "int8 k with value k * 2**-e, e from 'state_exp' (x likewise with 'x_exp'); 'train_grads' / "
            "'eval_grads' concatenate the gradients of the trainable ones in that order; "
            "'train_running' the running_mean / running_var after the training-mode forward."
        ),
        'configs': [],
    }
    total = 0
    for i, cfg in enumerate(CONFIGS):
        arrays, layout = make_fixture(cfg, seed=1000 + i)
        path = os.path.join(args.out, cfg['name'] + '.npz')
        np.savez(path, **arrays)
        size = os.path.getsize(path)
        total += size
        index['configs'].append({'file': cfg['name'] + '.npz', 'classes': CLASSES, 'final_bn': False, **cfg, 'tensors': layout})
        print(f"{path}: {cfg['arch']} width {cfg['width']}, {arrays['train_grads'].size} parameters, {size / 1024:.0f} KiB")
    with open(os.path.join(args.out, 'index.json'), 'w') as f:
        # One line per tensor: readable diffs without a bulky file.
        text = json.dumps({**index, 'configs': [{**c, 'tensors': f'@{i}'} for i, c in enumerate(index['configs'])]}, indent=1)
        for i, cfg in enumerate(index['configs']):
            rows = ',\n    '.join(json.dumps(t) for t in cfg['tensors'])
            text = text.replace(f'"@{i}"', f'[\n    {rows}\n   ]')
        f.write(text + '\n')
    print(f'total {total / 1024:.0f} KiB (+ index.json {os.path.getsize(os.path.join(args.out, "index.json")) / 1024:.0f} KiB)')


# ---------------------------------------------------------------- check-export

def read_idx_gz(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_yaml(path):
    import yaml  # PyYAML: Debian python3-yaml
    with open(path) as f:
        return yaml.safe_load(f)


def cmd_check_export(args):
    config = read_yaml(os.path.join(args.run, 'config.yaml'))
    data = config['dataset']
    if data['name'] != 'fashion-mnist-subset' or data['dir'] is not None:
        sys.exit('check-export evaluates on the embedded fashion-mnist-subset only')
    folder = os.path.join(ROOT, 'src', 'data', 'embedded', 'fashion-mnist-subset')
    images = read_idx_gz(os.path.join(folder, 't10k-images-idx3-ubyte.gz'))
    labels = read_idx_gz(os.path.join(folder, 't10k-labels-idx1-ubyte.gz')).astype(np.int64)
    mean, std = data['mean'][0], data['std'][0]
    x = torch.from_numpy(((images.astype(np.float32) / 255 - mean) / std)[:, None, :, :])

    model_cfg = config['model']
    model = build(model_cfg['arch'], model_cfg['width'], 10, 1, images.shape[1], model_cfg['final_bn'])
    arrays = np.load(args.npz)
    state = {k: torch.from_numpy(arrays[k]) for k in arrays.files}
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 200]) for i in range(0, len(x), 200)])
    y = torch.from_numpy(labels)
    acc = (logits.argmax(1) == y).double().mean().item()
    nll = F.cross_entropy(logits, y).item()
    print(f'pytorch reference: {len(y)} test images, accuracy {100 * acc:.2f}%, NLL {nll:.4f}')
    if args.ours:
        ours = np.load(args.ours)
        diff = np.abs(ours['logits'] - logits.numpy()).max()
        ours_acc = (ours['logits'].argmax(1) == labels).mean()
        agree = (ours['logits'].argmax(1) == logits.numpy().argmax(1)).mean()
        print(f'mixup-run:         {len(y)} test images, accuracy {100 * ours_acc:.2f}%')
        print(f'max |logit difference| {diff:.2e}; predictions agree on {100 * agree:.2f}% of images')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('fixtures', help='write the parity fixtures')
    p.add_argument('--out', default=os.path.join(ROOT, 'test', 'fixtures', 'parity'))
    p = sub.add_parser('check-export', help='evaluate an exported checkpoint in the reference network')
    p.add_argument('--run', required=True, help='run directory (for config.yaml)')
    p.add_argument('--npz', required=True, help='file written by mixup-run export --format pytorch-npz')
    p.add_argument('--ours', help='logits of mixup-run on the same images (scripts/eval-checkpoint.ts --logits)')
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    {'fixtures': cmd_fixtures, 'check-export': cmd_check_export}[args.cmd](args)


if __name__ == '__main__':
    main()
