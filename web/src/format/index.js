/**
 * The .inr decoder core, written from spec/: container and index, coders, blobs, weights and
 * the level. web/README.md documents the API.
 */
export {
  InrError,
  InrFormatError,
  InrTruncatedError,
  InrChecksumError,
  InrUnsupportedError,
  InrInputError,
} from "./errors.js";
export { openFile, InrFile, Sequence } from "./file.js";
export { InrStream } from "./stream.js";
export { DEFAULT_LIMITS, checkLevel } from "./levels.js";
export { digestParts, stepFromCode } from "./weights.js";
export { ARCHITECTURES, planNetwork } from "./archs.js";
