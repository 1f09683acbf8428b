// The page's calls to the server: JSON in and out, errors as Error with the server's own message.

export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  return answer(response);
}

export async function postJson(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return answer(response);
}

async function answer(response) {
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${response.status} ${text.slice(0, 300)}`);
  }
  if (!response.ok) {
    const error = new Error(body.error || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

/** Page values → a query string for the API, blanks left out (the saved queries' defaults apply). */
export function queryString(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  return q.size ? `?${q}` : '';
}
