import { SESv2Client } from '@aws-sdk/client-sesv2';
import { tracer } from '#shared/observability.ts';
import type { NotificationSettings, NotificationTransport } from '../wiring/notifications.ts';
import { requiredSetting, sqsQueueOf } from './aws-queue-transport.ts';
import { SesMailer } from './mailers.ts';

/**
 * SES and SQS, each built on first use, for the delivery function, the only one allowed to send
 * (lib/aws-calls.ts): an email to a stage without a sender fails that delivery (logged, retried,
 * dead-lettered) rather than the function. Functions that only raise events use awsQueueTransport.
 */
export function awsNotificationTransport(cfg: NotificationSettings): NotificationTransport {
  let ses: SesMailer | undefined;
  return {
    mailer: {
      send: async (tenantId, mail) => {
        ses ??= new SesMailer(
          tracer.captureAWSv3Client(new SESv2Client({})),
          requiredSetting(cfg, 'NOTIFICATION_FROM_ADDRESS'),
        );
        return ses.send(tenantId, mail);
      },
    },
    queue: sqsQueueOf(cfg),
  };
}
