/**
 * How the hubs of a fleet are spread over its instances. Each instance leads at most its fair share,
 * ceil(hubs / live instances), while another live instance has room; a hub that nobody with room takes
 * within the grace period goes to anyone (so a lone survivor leads everything). Pure: the blob I/O is in
 * hub-member.ts and member-presence.ts.
 */

/** How many hubs one instance should lead. */
export function fairShare(hubs: number, liveInstances: number): number {
  return Math.ceil(hubs / Math.max(1, liveInstances));
}

/**
 * Whether a standby may take a hub nobody leads (free, or its leader silent): when it leads less than its
 * share, or once the hub has been unled for `graceMs` (the instances with room did not take it).
 */
export function mayTakeHub(leads: number, share: number, unledForMs: number, graceMs: number): boolean {
  return leads < share || unledForMs >= graceMs;
}

/** Whether a leader should hand a hub over: it leads more than its share and another live instance has room. */
export function shouldHandOver(leads: number, share: number, othersLeads: readonly number[]): boolean {
  return leads > share && othersLeads.some((other) => other < share);
}

/** What the hubs of one instance share: how many of them it leads, and whether one is being handed over. */
export class InstanceLeads {
  leading = 0;
  private handingOver = false;

  constructor(readonly hubs: number) {}

  /** One hand-over at a time: the count the others see must catch up before the next one is decided. */
  claimHandOver(): boolean {
    if (this.handingOver) return false;
    this.handingOver = true;
    return true;
  }

  handOverDone(): void {
    this.handingOver = false;
  }
}
