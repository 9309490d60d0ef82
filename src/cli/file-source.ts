// A file read on demand at any offset, for inputs too large to hold whole (a calibration .npy of
// 1000 YOLOX images is 520 MB; the command needs one batch of it at a time).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { DataFile } from '../core/data/calib';
import type { ByteSource } from '../core/data/npy';
import { InputError } from '../core/errors';
import { readModelFile } from './commands/inspect';

function cannotRead(path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  return new InputError(`cannot read ${path}: ${why}`);
}

/**
 * The file's size is taken once; each read opens the file, reads at its offset and closes it again, so
 * nothing stays open when a command ends early (a batch is large enough that this costs nothing).
 */
export function fileSource(path: string): ByteSource {
  let size: number;
  try {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      size = st.size;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw cannotRead(path, e);
  }
  return {
    size,
    read(offset: number, length: number): Uint8Array {
      const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        throw cannotRead(path, e);
      }
      try {
        let done = 0;
        while (done < out.length) {
          const n = readSync(fd, out, done, out.length - done, offset + done);
          if (n === 0) break; // the file shrank: the caller sees a short block
          done += n;
        }
        return done === out.length ? out : out.slice(0, done);
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** An .npy is read a batch at a time from disk (it may hold far more samples than memory should); other files whole. */
export function dataFile(path: string, name = basename(path)): DataFile {
  return /\.npy$/i.test(path) ? { name, source: fileSource(path) } : { name, bytes: readModelFile(path) };
}
