/**
 * The same attack stories told for clients that arrive over loopback (127.0.0.1), as every client of Azure's
 * built-in PgBouncer does, with the default exclusions: they must raise the same alerts.
 */
import { tellAttackStories } from './attack-stories.js';

tellAttackStories({ host: '127.0.0.1', defaults: {} });
