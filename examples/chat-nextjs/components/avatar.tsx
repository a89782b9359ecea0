import type { Member } from '@parley/realtime';

import { hueOf, initials } from '@/lib/format';

type PresenceStatus = Member['status'];

const PRESENCE_LABEL: Record<PresenceStatus, string> = {
  online: 'Online',
  idle: 'Idle',
  away: 'Away',
  offline: 'Offline',
};

export function presenceLabel(status: PresenceStatus): string {
  return PRESENCE_LABEL[status] ?? status;
}

/** Initials on a colour of the user's own, with an optional presence dot. */
export function Avatar({
  id,
  name,
  size = 36,
  presence,
}: {
  id: string;
  name: string;
  size?: number;
  presence?: PresenceStatus;
}) {
  const hue = hueOf(id);
  return (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.38, background: `hsl(${hue} 62% 46%)` }}
    >
      {initials(name)}
      {presence && <span className={`presence-dot presence-${presence}`} />}
    </span>
  );
}

/** A presence dot on its own, with its meaning for screen readers. */
export function PresenceDot({ status }: { status: PresenceStatus }) {
  return (
    <span className={`presence-dot standalone presence-${status}`} role="img" aria-label={presenceLabel(status)} />
  );
}
