/** The synthetic attack stories told for clients on the network, with every exclusion off. */
import { NO_EXCLUSIONS } from './detection-harness.js';
import { tellAttackStories } from './attack-stories.js';

tellAttackStories({ host: undefined, defaults: { exclude: NO_EXCLUSIONS } });
