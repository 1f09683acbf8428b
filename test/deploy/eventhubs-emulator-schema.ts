/**
 * The Event Hubs emulator's Config.json as its documentation describes it (learn.microsoft.com, "Test locally
 * with the Azure Event Hubs emulator" and its quotas): one namespace named emulatorNs1, up to 10 event hubs,
 * each with 1-32 partitions given as a string, up to 20 consumer groups, and File or Console logging.
 */
import { z } from 'zod';

const name = z.string().min(1).max(50);

export const emulatorConfigSchema = z.strictObject({
  UserConfig: z.strictObject({
    NamespaceConfig: z
      .array(
        z.strictObject({
          Type: z.literal('EventHub'),
          Name: z.literal('emulatorNs1'),
          Entities: z
            .array(
              z.strictObject({
                Name: name,
                PartitionCount: z
                  .string()
                  .regex(/^\d+$/, 'a number written as a string')
                  .refine((count) => Number(count) >= 1 && Number(count) <= 32, '1 to 32 partitions'),
                ConsumerGroups: z.array(z.strictObject({ Name: name })).max(20),
              }),
            )
            .min(1)
            .max(10),
        }),
      )
      .length(1),
    LoggingConfig: z.strictObject({ Type: z.enum(['File', 'Console']) }),
  }),
});
