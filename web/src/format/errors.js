/**
 * The error classes of spec/bitstream.md §9. Every failure of the decoder core is one of these,
 * whatever its input; each carries the spec's exit status as `exitCode`.
 */

/** Base class of every error the core raises. */
export class InrError extends Error {
  /** @param {string} message one line naming the structure, field and offset */
  constructor(message) {
    super(message);
  }

  /** The spec's exit status of this class. */
  get exitCode() {
    return 1;
  }
}

/** A file that breaks a rule of spec/ (exit 3). */
export class InrFormatError extends InrError {
  get exitCode() {
    return 3;
  }
}

/** The file ends inside a field or chunk, a parser reads past a payload, no trailer (exit 4). */
export class InrTruncatedError extends InrFormatError {
  get exitCode() {
    return 4;
  }
}

/** A chunk's CRC does not match (exit 5). */
export class InrChecksumError extends InrFormatError {
  get exitCode() {
    return 5;
  }
}

/** A newer file, an unknown id or critical chunk, or a header above the level (exit 6). */
export class InrUnsupportedError extends InrError {
  get exitCode() {
    return 6;
  }
}

/** A GOM, GOP or frame number outside the sequence (exit 7). */
export class InrInputError extends InrError {
  get exitCode() {
    return 7;
  }
}

// Names set on the prototypes, not taken from the constructors: a minifier may rename those.
for (const [cls, name] of [
  [InrError, "InrError"],
  [InrFormatError, "InrFormatError"],
  [InrTruncatedError, "InrTruncatedError"],
  [InrChecksumError, "InrChecksumError"],
  [InrUnsupportedError, "InrUnsupportedError"],
  [InrInputError, "InrInputError"],
]) {
  Object.defineProperty(cls.prototype, "name", { value: name, writable: true, configurable: true });
}
