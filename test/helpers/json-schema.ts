/**
 * A small JSON Schema validator for the subset config/rmchat.schema.json uses: type (object,
 * array, string, integer, number, boolean), properties, required, additionalProperties: false,
 * items, minItems, maxItems, minimum, maximum, minLength, maxLength, enum. Any other keyword in
 * a schema is an error, so the schema cannot silently use something this does not check.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  "$schema",
  "title",
  "description",
  "default",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "enum",
]);

function typeOk(type: unknown, v: unknown): boolean {
  switch (type) {
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    case "array":
      return Array.isArray(v);
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    default:
      throw new Error(`schema uses an unsupported type ${String(type)}`);
  }
}

/** The problems of `value` against `schema`, each as `path: problem`; empty when valid. */
export function validate(schema: Schema, value: unknown, path = "$"): string[] {
  for (const k of Object.keys(schema)) {
    if (!KNOWN.has(k)) throw new Error(`schema keyword ${k} at ${path} is not supported`);
  }
  const errors: string[] = [];
  if (schema.type !== undefined && !typeOk(schema.type, value)) {
    return [`${path}: not of type ${String(schema.type)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    errors.push(`${path}: not in enum`);
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum)
      errors.push(`${path}: below minimum ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum)
      errors.push(`${path}: above maximum ${schema.maximum}`);
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength)
      errors.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength)
      errors.push(`${path}: longer than ${schema.maxLength}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems)
      errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
      errors.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined) {
      value.forEach((v, i) => {
        errors.push(...validate(schema.items as Schema, v, `${path}[${i}]`));
      });
    }
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) {
      if (!Object.hasOwn(obj, r)) errors.push(`${path}.${r}: required`);
    }
    for (const [k, v] of Object.entries(obj)) {
      if (Object.hasOwn(props, k)) errors.push(...validate(props[k] as Schema, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${k}: unknown key`);
    }
  }
  return errors;
}
