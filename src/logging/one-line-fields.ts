/**
 * An object as `key=value` pairs on one line, nested keys dotted (`http.port=8080`), for a log message a
 * person reads on a terminal: the configuration at start fits one line instead of twenty.
 */
export function oneLineFields(object: Readonly<Record<string, unknown>>): string {
  return pairs(object, '').join(' ');
}

function pairs(object: Readonly<Record<string, unknown>>, prefix: string): string[] {
  return Object.entries(object).flatMap(([key, value]) => {
    const name = `${prefix}${key}`;
    if (value === undefined) return [];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return pairs(value as Record<string, unknown>, `${name}.`);
    if (Array.isArray(value)) return value.length === 0 ? [] : [`${name}=${value.map(scalar).join(',')}`];
    return [`${name}=${scalar(value)}`];
  });
}

/** Quoted only when a value would otherwise run into the next pair. */
function scalar(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === '' || /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}
