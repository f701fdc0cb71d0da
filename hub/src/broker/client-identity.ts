/**
 * Client ids are bound to the credential: an id is exactly the MQTT username, or the username
 * followed by `#` and a suffix (a gateway or operator with several connections). Usernames
 * (`site/device`, operator ids) contain no `#`, so the owner of an id is unambiguous and no
 * credential can take over another one's session; a reconnect with its own id takes over its
 * own (MQTT 3.1.1 §3.1.4).
 */
export function clientIdBelongsTo(clientId: string, username: string): boolean {
  return clientId === username || (clientId.startsWith(`${username}#`) && clientId.length > username.length + 1);
}

/**
 * Live connections per credential. A connection is admitted in authenticate (before aedes
 * registers it) and released when its socket closes; a takeover briefly holds both the old
 * and the new connection of one id, which counts as one.
 */
export class ConnectionTable<C> {
  private readonly byCredential = new Map<string, Map<C, string>>();

  /** Admits `conn` unless the credential already has `max` other client ids connected. */
  admit(credential: string, clientId: string, conn: C, max: number): boolean {
    const conns = this.byCredential.get(credential) ?? new Map<C, string>();
    const ids = new Set(conns.values());
    if (!ids.has(clientId) && ids.size >= max) return false;
    conns.set(conn, clientId);
    this.byCredential.set(credential, conns);
    return true;
  }

  release(credential: string, conn: C): void {
    const conns = this.byCredential.get(credential);
    if (!conns) return;
    conns.delete(conn);
    if (conns.size === 0) this.byCredential.delete(credential);
  }

  /** Another live connection of this credential uses the same id: `conn` is being taken over. */
  takenOver(credential: string, clientId: string, conn: C): boolean {
    for (const [other, id] of this.byCredential.get(credential) ?? []) if (other !== conn && id === clientId) return true;
    return false;
  }

  connections(credential: string): C[] {
    return [...(this.byCredential.get(credential)?.keys() ?? [])];
  }
}
