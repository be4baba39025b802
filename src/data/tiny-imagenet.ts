/**
 * Tiny-ImageNet-200 (http://cs231n.stanford.edu/tiny-imagenet-200.zip): wnids.txt lists the
 * 200 classes; train/<wnid>/images/*.JPEG are the training images; val/images/*.JPEG with
 * val/val_annotations.txt (file, wnid, box) are the labelled validation images, used as the
 * test set. Class indices follow the sorted wnids (torchvision ImageFolder's order, as in
 * the official code). JPEGs are decoded in pure JavaScript (jpeg-js); grayscale ones come
 * out as three equal channels.
 */
import jpeg from 'jpeg-js';
import { DataError } from '../runtime/errors.js';
import type { Split } from './load.js';
import type { FileTree } from './tree.js';

const SIZE = 64;
const IMAGE = SIZE * SIZE * 3;

/** Decodes one JPEG into 64×64×3 bytes (HWC). */
export function decodeJpeg64(bytes: Uint8Array, source: string): Uint8Array {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  } catch (e) {
    throw new DataError(`${source}: not a readable JPEG (${(e as Error).message})`, { cause: e });
  }
  if (img.width !== SIZE || img.height !== SIZE) throw new DataError(`${source}: ${img.width}×${img.height} image, expected ${SIZE}×${SIZE}`);
  return img.data;
}

export function tinyImagenetClasses(tree: FileTree): string[] {
  if (!tree.has('wnids.txt')) throw new DataError(`${tree.label}: missing wnids.txt`);
  const wnids = new TextDecoder().decode(tree.read('wnids.txt')).split(/\s+/).filter(Boolean).sort();
  if (new Set(wnids).size !== wnids.length) throw new DataError(`${tree.label}: wnids.txt lists a class twice`);
  return wnids;
}

export type DecodeProgress = (done: number, total: number) => void;

function decodeAll(tree: FileTree, items: { path: string; label: number }[], onProgress?: DecodeProgress): Split {
  const n = items.length;
  const images = new Uint8Array(n * IMAGE);
  const labels = new Uint8Array(n);
  const every = Math.max(1, Math.floor(n / 100));
  items.forEach(({ path, label }, i) => {
    images.set(decodeJpeg64(tree.read(path), `${tree.label}/${path}`), i * IMAGE);
    labels[i] = label;
    if (onProgress && ((i + 1) % every === 0 || i + 1 === n)) onProgress(i + 1, n);
  });
  return { images, labels, n };
}

export function decodeTinyImagenetTrain(tree: FileTree, onProgress?: DecodeProgress): Split {
  const wnids = tinyImagenetClasses(tree);
  const items = wnids.flatMap((wnid, label) => {
    const files = tree.list(`train/${wnid}/images/`).filter((p) => /\.jpe?g$/i.test(p));
    if (files.length === 0) throw new DataError(`${tree.label}: no images in train/${wnid}/images/`);
    return files.map((path) => ({ path, label }));
  });
  return decodeAll(tree, items, onProgress);
}

export function decodeTinyImagenetVal(tree: FileTree, onProgress?: DecodeProgress): Split {
  const wnids = tinyImagenetClasses(tree);
  const index = new Map(wnids.map((w, i) => [w, i]));
  if (!tree.has('val/val_annotations.txt')) throw new DataError(`${tree.label}: missing val/val_annotations.txt`);
  const lines = new TextDecoder().decode(tree.read('val/val_annotations.txt')).split('\n').filter((l) => l.trim());
  const items = lines.map((line, k) => {
    const [file, wnid] = line.split('\t');
    const label = index.get(wnid);
    if (!file || label === undefined) throw new DataError(`${tree.label}/val/val_annotations.txt:${k + 1}: "${line.slice(0, 60)}" does not name an image and a class of wnids.txt`);
    return { path: `val/images/${file}`, label };
  });
  return decodeAll(tree, items, onProgress);
}
