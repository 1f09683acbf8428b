/**
 * stderr (and so Azure) renders an error's cursor position into the message (`... at character 8`,
 * elog.c send_message_to_server_log); csvlog and jsonlog keep it in a column. Appending it makes a
 * message read the same whichever format carried it.
 */
export function withCursorPosition(message: string, position: string | number | null): string {
  if (position === null || position === '' || Number(position) <= 0) return message;
  return `${message} at character ${position}`;
}
