/** Bodies of the dashboard's account API: each validates, types the handler and documents the route (src/http/schema.ts). */
import { Type as T } from '@sinclair/typebox';
import { fieldError, NOT_BLANK, validator } from '../http/schema';

const Email = T.String({ minLength: 3, maxLength: 254, example: 'pat@example.com', ...fieldError('invalid_email'), 'x-error-message': 'must be an email address' });
const Password = (description: string) => T.String({ minLength: 1, maxLength: 200, description, ...fieldError('weak_password'), 'x-error-message': 'must be 1-200 characters' });
const Name = T.String({ minLength: 1, maxLength: 100, pattern: NOT_BLANK, example: 'Pat Lee', ...fieldError('invalid_name'), 'x-error-message': 'must be 1-100 characters, not only spaces' });
const Roles = T.Object({
  publisher: T.Boolean({ description: 'May own publisher projects (apps that call the API)' }),
  advertiser: T.Boolean({ description: 'May own advertiser projects (products and campaigns)' }),
}, { additionalProperties: false, ...fieldError('invalid_roles') });

export const SetupBody = validator(T.Object({
  admin_token: T.String({ minLength: 1, maxLength: 512, description: 'The operator\'s admin token (VEXRAIL_ADMIN_TOKEN or the one printed at first start)' }),
  email: Email,
  name: Name,
  password: Password('At least 10 characters'),
}, { additionalProperties: false }));

export const LoginBody = validator(T.Object({ email: Email, password: Password('The account\'s password') }, { additionalProperties: false }));

export const PasswordBody = validator(T.Object({
  current_password: Password('The password in use'),
  new_password: Password('At least 10 characters; other sessions of the account are signed out'),
}, { additionalProperties: false }));

export const SignUpBody = validator(T.Object({ email: Email, name: Name, password: Password('At least 10 characters'), roles: Roles }, { additionalProperties: false }));

export const AcceptInviteBody = validator(T.Object({
  token: T.String({ minLength: 1, maxLength: 100, description: 'The token of the invite link', ...fieldError('invalid_invite') }),
  name: Name,
  password: Password('At least 10 characters'),
}, { additionalProperties: false }));

export const InviteBody = validator(T.Object({ email: Email, roles: Roles }, { additionalProperties: false }));
