"""PyTorch side of scripts/bench.ts: the same PreActResNet18, batch and training step (BCE on
softmax, backward, SGD with Nesterov momentum and weight decay; manifold mixup at a random
stage boundary in {0, 1, 2} with lambda ~ Beta(2, 2)) on random 32x32x3 data.

It serves timing requests so that the benchmark can alternate its steps with ours under the
same machine load. After printing {"ready": ...} it reads one command per line:
  step none | step manifold   one training step -> {"s": wall seconds, "cpu": CPU seconds}
  forward                     a training-mode forward without autograd -> same
  quit                        -> {"peak_rss_mb": ...}, then exits

  python3 scripts/bench_torch.py --width 64 --batch 32 --threads 2
"""
import argparse
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, planes, 1, stride, bias=False) if stride != 1 or cin != planes else None

    def forward(self, x):
        a = F.relu(self.bn1(x))
        sc = self.shortcut(a) if self.shortcut is not None else x
        out = self.conv1(a)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + sc


class PreActResNet18(nn.Module):
    def __init__(self, width, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        stages, cin = [], width
        for s in range(4):
            planes = width * 2**s
            blocks = []
            for i in range(2):
                blocks.append(Block(cin, planes, 2 if i == 0 and s > 0 else 1))
                cin = planes
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.linear = nn.Linear(cin, classes)

    def forward(self, x, mix=None):
        """mix = (layer, lam, perm): mix the hidden state at stage boundary `layer` (0 = input)."""
        h = x
        for i in range(4):
            if mix is not None and mix[0] == i:
                lam, perm = mix[1], mix[2]
                h = lam * h + (1 - lam) * h[perm]
            h = self.stages[0](self.conv1(h)) if i == 0 else self.stages[i](h)
        return self.linear(h.mean(dim=(2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--width', type=int, default=64)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = PreActResNet18(a.width)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.randn(a.batch, 3, 32, 32)
    onehot = F.one_hot(torch.arange(a.batch) % 10, 10).float()
    gen = torch.Generator().manual_seed(1)
    beta = torch.distributions.Beta(2.0, 2.0)

    def step(mode):
        mix, target = None, onehot
        if mode == 'manifold':
            layer = int(torch.randint(0, 3, (1,), generator=gen))
            lam = float(beta.sample())
            perm = torch.randperm(a.batch, generator=gen)
            mix = (layer, lam, perm)
            target = lam * onehot + (1 - lam) * onehot[perm]
        opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy(F.softmax(model(x, mix), dim=1), target)
        loss.backward()
        opt.step()

    def forward():
        with torch.no_grad():
            model(x)

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()

    reply({'ready': {'version': torch.__version__, 'threads': torch.get_num_threads()}})
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == 'quit':
            reply({'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
            return
        t0, c0 = time.perf_counter(), time.process_time()
        if cmd[0] == 'step':
            step(cmd[1])
        elif cmd[0] == 'forward':
            forward()
        else:
            raise SystemExit(f'unknown command {line!r}')
        reply({'s': time.perf_counter() - t0, 'cpu': time.process_time() - c0})


if __name__ == '__main__':
    main()
