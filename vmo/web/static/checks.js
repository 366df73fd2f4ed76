// The server's identifier checks, in the browser, so a typo is shown before anything is sent. Each returns
// null when the value is good, else [dictionary key, values] for the message. Same rules as vmo/validators.py.
const upper = (value) => value.trim().replace(/[a-z]/g, (c) => c.toUpperCase());

// VIN, GB 16735 / ISO 3779: weights per position, letters counted in runs A-H, J-N (P=7, R=9), S-Z.
const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
const VIN_VALUES = {};
"0123456789".split("").forEach((c, i) => { VIN_VALUES[c] = i; });
"ABCDEFGH".split("").forEach((c, i) => { VIN_VALUES[c] = i + 1; });
"JKLMN".split("").forEach((c, i) => { VIN_VALUES[c] = i + 1; });
VIN_VALUES.P = 7;
VIN_VALUES.R = 9;
"STUVWXYZ".split("").forEach((c, i) => { VIN_VALUES[c] = i + 2; });

export const normalVin = upper;

export function vinCheckDigit(vin) {
  const remainder = vin.split("").reduce((sum, c, i) => sum + VIN_VALUES[c] * VIN_WEIGHTS[i], 0) % 11;
  return remainder === 10 ? "X" : String(remainder);
}

export function checkVin(raw) {
  const vin = upper(raw);
  if (vin.length !== 17) return ["vin_len", {}];
  if (!/^[0-9A-Z]{17}$/.test(vin)) return ["vin_chars", {}];
  if (/[IOQ]/.test(vin)) return ["vin_ioq", {}];
  const expected = vinCheckDigit(vin);
  return vin[8] === expected ? null : ["vin_check", { c: expected, got: vin[8] }];
}

// Resident ID, GB 11643 (ISO 7064 MOD 11-2).
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

export function checkIdNumber(raw) {
  const value = upper(raw);
  if (value.length !== 18) return ["id_len", {}];
  if (!/^\d{17}[\dX]$/.test(value)) return ["id_chars", {}];
  const [y, m, d] = [value.slice(6, 10), value.slice(10, 12), value.slice(12, 14)].map(Number);
  const born = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d || born > new Date()) {
    return ["id_birth", {}];
  }
  const sum = value.slice(0, 17).split("").reduce((s, c, i) => s + Number(c) * ID_WEIGHTS[i], 0);
  const expected = "10X98765432"[sum % 11];
  return value[17] === expected ? null : ["id_check", { c: expected }];
}

// Unified social credit code, GB 32100-2015.
const CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function checkCreditCode(raw) {
  const value = upper(raw);
  if (value.length !== 18) return ["credit_len", {}];
  if (![...value].every((c) => CREDIT_ALPHABET.includes(c)) || !/^\d{6}$/.test(value.slice(2, 8))) {
    return ["credit_chars", {}];
  }
  const sum = [...value.slice(0, 17)].reduce((s, c, i) => s + CREDIT_ALPHABET.indexOf(c) * CREDIT_WEIGHTS[i], 0);
  const expected = CREDIT_ALPHABET[(31 - (sum % 31)) % 31];
  return value[17] === expected ? null : ["credit_check", { c: expected }];
}

export function checkMobile(raw) {
  return /^1[3-9]\d{9}$/.test(raw.replace(/[\s-]/g, "").replace(/^\+?86/, "")) ? null : ["phone_bad", {}];
}

export function checkUsername(raw) {
  return /^[A-Za-z0-9_.@-]{3,64}$/.test(raw.trim()) ? null : ["username_bad", {}];
}

export function checkPassword(raw) {
  return raw.length >= 8 ? null : ["password_short", {}];
}
