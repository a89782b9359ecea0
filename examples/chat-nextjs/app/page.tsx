import { Chat } from '@/components/chat';

// Read at request time so one build serves any parleyd address.
export const dynamic = 'force-dynamic';

export default function Page() {
  return <Chat serverUrl={process.env.PARLEY_URL || null} />;
}
