-- Demo data from the seed article (qazvolunteer-style news page), in kk/ru/en.
-- Idempotent: every row is keyed by a natural key and upserted, so running it twice changes nothing.

INSERT INTO organizations (slug, name, description, kind, country, region, city, website, verified, created_at) VALUES
('national-volunteer-network',
 '{"kk":"Ұлттық волонтерлік желі","ru":"Национальная волонтерская сеть","en":"National Volunteer Network"}',
 '{"kk":"Қазақстандағы 56 волонтерлік ұйымның басын біріктіретін желі. «Жеңіс» жобасы 5000-нан астам ҰОС ардагерлері мен тың еңбеккерлерін қамтыды.","ru":"Сеть, объединяющая 56 волонтерских организаций Казахстана. Проект «Жеңіс» охватил более 5000 ветеранов ВОВ и целинников.","en":"A network uniting 56 volunteer organizations across Kazakhstan. Its \"Zhenis\" project reached over 5,000 war veterans and virgin-lands workers."}',
 'NETWORK', 'KZ', 'Astana', 'Astana', 'https://birgemiz.local/nvn', true, '2019-01-10T09:00:00Z'),
('kazakhstan-red-crescent',
 '{"kk":"Қазақстан Қызыл Жарты Ай қоғамы","ru":"Общество Красного Полумесяца Казахстана","en":"Kazakhstan Red Crescent Society"}',
 '{"kk":"Төтенше жағдайларда және әлеуметтік көмекте еріктілерді біріктіреді.","ru":"Объединяет добровольцев для помощи в чрезвычайных ситуациях и социальной поддержки.","en":"Brings volunteers together for emergency relief and social support."}',
 'NGO', 'KZ', 'Almaty', 'Almaty', 'https://birgemiz.local/redcrescent', true, '2019-01-11T09:00:00Z'),
('un-volunteers-kazakhstan',
 '{"kk":"БҰҰ Еріктілер бағдарламасы","ru":"Программа добровольцев ООН","en":"UN Volunteers programme"}',
 '{"kk":"Тұрақты даму мақсаттары үшін еріктілікті қолдайды.","ru":"Поддерживает добровольчество ради целей устойчивого развития.","en":"Supports volunteering for the Sustainable Development Goals."}',
 'INTERNATIONAL', 'KZ', 'Almaty', 'Almaty', NULL, true, '2019-01-12T09:00:00Z'),
('volunteer-league',
 '{"kk":"Волонтерлер лигасы","ru":"Лига волонтеров","en":"Volunteer League"}',
 '{"kk":"Студенттер мен жастардың волонтерлік қозғалысы.","ru":"Волонтерское движение студентов и молодежи.","en":"A volunteer movement of students and young people."}',
 'NGO', 'KZ', 'Almaty', 'Almaty', NULL, true, '2019-01-13T09:00:00Z'),
('28-ilmek',
 '{"kk":"«28 ілмек» клубы","ru":"Клуб «28 петель»","en":"\"28 Loops\" knitting club"}',
 '{"kk":"5 жылдан бері шала туылған балаларға жүннен киім тоқиды.","ru":"Пять лет вяжет шерстяную одежду для недоношенных детей.","en":"For five years it has knitted woollen clothes for premature babies."}',
 'CLUB', 'KZ', 'Almaty', 'Almaty', NULL, false, '2019-01-14T09:00:00Z'),
('club-dobryakov',
 '{"kk":"Мейірімділер клубы","ru":"Клуб добряков","en":"Kindness Club"}',
 '{"kk":"Балалар үйлері мен мұқтаж жандарға көмектеседі.","ru":"Помогает детским домам и нуждающимся.","en":"Helps orphanages and people in need."}',
 'CLUB', 'KZ', 'Karaganda', 'Karaganda', NULL, false, '2019-01-15T09:00:00Z'),
('rina-kz',
 '{"kk":"Rina.kz","ru":"Rina.kz","en":"Rina.kz"}',
 '{"kk":"Онлайн волонтерлік бастама.","ru":"Инициатива онлайн-волонтерства.","en":"An online volunteering initiative."}',
 'INITIATIVE_GROUP', 'KZ', 'Almaty', 'Almaty', 'https://birgemiz.local/rina', false, '2019-01-16T09:00:00Z'),
('leader-volunteers',
 '{"kk":"Лидер волонтерлер","ru":"Волонтеры-лидеры","en":"Leader Volunteers"}',
 '{"kk":"Жас көшбасшыларды волонтерлікке тартады.","ru":"Вовлекает молодых лидеров в волонтерство.","en":"Draws young leaders into volunteering."}',
 'INITIATIVE_GROUP', 'KZ', 'Shymkent', 'Shymkent', NULL, false, '2019-01-17T09:00:00Z'),
('jas-ulan',
 '{"kk":"«Жас Ұлан» республикалық балалар мен жасөспірімдер ұйымы","ru":"Республиканская детско-юношеская организация «Жас Ұлан»","en":"Jas Ulan republican youth organization"}',
 '{"kk":"2011 жылы құрылған. JasUlanTeam бастамашыл тобында 3 мыңнан астам бала бар.","ru":"Создана в 2011 году. В инициативной группе JasUlanTeam более 3 тысяч детей.","en":"Founded in 2011. The JasUlanTeam initiative group has over 3,000 children."}',
 'STATE', 'KZ', 'Astana', 'Astana', NULL, true, '2019-01-18T09:00:00Z'),
('association-of-volunteer-centres',
 '{"kk":"Волонтерлік орталықтар қауымдастығы","ru":"Ассоциация волонтерских центров","en":"Association of Volunteer Centres"}',
 '{"kk":"Ресейдің волонтерлік орталықтарын біріктіреді.","ru":"Объединяет волонтерские центры России.","en":"Unites volunteer centres across Russia."}',
 'NETWORK', 'RU', 'Moscow', 'Moscow', NULL, true, '2019-01-19T09:00:00Z')
ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, kind = EXCLUDED.kind,
    country = EXCLUDED.country, region = EXCLUDED.region, city = EXCLUDED.city, website = EXCLUDED.website,
    verified = EXCLUDED.verified
-- Only rows that differ: a no-op update would still bump updated_at.
WHERE (organizations.name, organizations.description, organizations.kind, organizations.country, organizations.region,
       organizations.city, organizations.website, organizations.verified)
   IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.kind, EXCLUDED.country, EXCLUDED.region,
       EXCLUDED.city, EXCLUDED.website, EXCLUDED.verified);

INSERT INTO network_memberships (network_id, member_id)
SELECT n.id, m.id FROM organizations n, organizations m
WHERE n.slug = 'national-volunteer-network'
  AND m.slug IN ('kazakhstan-red-crescent', 'volunteer-league', '28-ilmek', 'club-dobryakov', 'rina-kz', 'leader-volunteers', 'jas-ulan')
ON CONFLICT DO NOTHING;

INSERT INTO projects (slug, organization_id, title, summary, description, direction, status, country, region, city,
                      starts_at, ends_at, volunteers_needed, created_at, published_at)
SELECT p.slug, o.id, p.title::jsonb, p.summary::jsonb, p.description::jsonb, p.direction, 'PUBLISHED', p.country, p.region, p.city,
       p.starts_at::timestamptz, p.ends_at::timestamptz, p.needed, p.created::timestamptz, p.created::timestamptz
FROM (VALUES
 ('zhenis-veterans', 'national-volunteer-network',
  '{"kk":"«Жеңіс» жобасы","ru":"Проект «Жеңіс»","en":"\"Zhenis\" project"}',
  '{"kk":"Ардагерлер мен тың еңбеккерлеріне көмек","ru":"Помощь ветеранам и целинникам","en":"Help for veterans and virgin-lands workers"}',
  '{"kk":"5000-нан астам ардагерге үй шаруасында көмек және бірге уақыт өткізу.","ru":"Помощь по дому и общение для более чем 5000 ветеранов.","en":"Help at home and company for more than 5,000 veterans."}',
  'SOCIAL', 'KZ', 'Astana', 'Astana', '2026-12-01T04:00:00Z', '2027-05-09T12:00:00Z', 200, '2026-10-01T09:00:00Z'),
 ('flood-relief-2024', 'national-volunteer-network',
  '{"kk":"Су тасқынынан зардап шеккендерге көмек","ru":"Помощь пострадавшим от паводков","en":"Flood relief"}',
  '{"kk":"Заңгер волонтерлермен бірге көмек","ru":"Помощь вместе с волонтерами-юристами","en":"Relief together with volunteer lawyers"}',
  '{"kk":"Апаттан зардап шеккендерге құқықтық және тұрмыстық көмек.","ru":"Юридическая и бытовая помощь пострадавшим.","en":"Legal and practical help for those affected by the floods."}',
  'EMERGENCY', 'KZ', 'Kostanay', 'Kostanay', '2024-04-10T04:00:00Z', '2024-06-30T12:00:00Z', 100, '2024-04-10T09:00:00Z'),
 ('first-aid-courses', 'kazakhstan-red-crescent',
  '{"kk":"Алғашқы көмек курстары","ru":"Курсы первой помощи","en":"First aid courses"}',
  '{"kk":"Еріктілерге алғашқы көмек үйрету","ru":"Обучение добровольцев первой помощи","en":"Teaching volunteers first aid"}',
  '{"kk":"Медициналық волонтерлікке дайындық.","ru":"Подготовка к медицинскому волонтерству.","en":"Preparation for medical volunteering."}',
  'MEDICAL', 'KZ', 'Almaty', 'Almaty', '2026-11-26T04:00:00Z', '2026-12-20T12:00:00Z', 30, '2026-10-15T09:00:00Z'),
 ('shelter-dogs-almaty', 'volunteer-league',
  '{"kk":"Баспанадағы иттерге қамқорлық","ru":"Забота о собаках из приюта","en":"Caring for shelter dogs"}',
  '{"kk":"Серуендету, тамақтандыру, жаңа үй іздеу","ru":"Выгул, кормление, поиск дома","en":"Walks, feeding, finding homes"}',
  '{"kk":"Алматы баспанасындағы жануарларға көмек.","ru":"Помощь животным приюта в Алматы.","en":"Helping the animals of an Almaty shelter."}',
  'ANIMALS', 'KZ', 'Almaty', 'Almaty', '2026-12-05T04:00:00Z', NULL, 15, '2026-10-20T09:00:00Z'),
 ('knitting-for-premature-babies', '28-ilmek',
  '{"kk":"Шала туылған балаларға тоқыма","ru":"Вязание для недоношенных малышей","en":"Knitting for premature babies"}',
  '{"kk":"Жүн шұлықтар мен бас киімдер","ru":"Шерстяные носочки и шапочки","en":"Woollen socks and hats"}',
  '{"kk":"Перинаталдық орталықтарға тоқылған киім.","ru":"Вязаная одежда для перинатальных центров.","en":"Knitted clothes for perinatal centres."}',
  'SOCIAL', 'KZ', 'Almaty', 'Almaty', NULL, NULL, NULL, '2026-09-01T09:00:00Z'),
 ('silver-volunteers-forum', 'national-volunteer-network',
  '{"kk":"«Күміс волонтерлік» форумы","ru":"Форум «Серебряное волонтерство»","en":"\"Silver volunteering\" forum"}',
  '{"kk":"Аға буын волонтерлері","ru":"Волонтеры старшего поколения","en":"Volunteers of the older generation"}',
  '{"kk":"«Волонтерлік – жастар ісі, әжімге қарсы ем».","ru":"«Волонтерство – дело молодых и лекарство от морщин».","en":"\"Volunteering is the business of the young and a cure for wrinkles.\""}',
  'SILVER', 'KZ', 'Kostanay', 'Kostanay', '2026-12-10T04:00:00Z', '2026-12-11T12:00:00Z', 50, '2026-10-25T09:00:00Z'),
 ('nauryz-ethno-festival', 'jas-ulan',
  '{"kk":"Наурыз этно-фестивалі","ru":"Этнофестиваль Наурыз","en":"Nauryz ethno festival"}',
  '{"kk":"Этно-волонтерлік","ru":"Этноволонтерство","en":"Ethno volunteering"}',
  '{"kk":"Ұлттық дәстүрлерді таныстыру.","ru":"Знакомство с национальными традициями.","en":"Sharing national traditions."}',
  'ETHNO', 'KZ', 'Astana', 'Astana', '2027-03-21T04:00:00Z', '2027-03-23T12:00:00Z', 80, '2026-11-01T09:00:00Z'),
 ('online-tutoring', 'rina-kz',
  '{"kk":"Онлайн репетиторлық","ru":"Онлайн-репетиторство","en":"Online tutoring"}',
  '{"kk":"Ауыл балаларына онлайн сабақ","ru":"Онлайн-уроки для сельских детей","en":"Online lessons for village children"}',
  '{"kk":"Математика және ағылшын тілі.","ru":"Математика и английский язык.","en":"Mathematics and English."}',
  'ONLINE', 'KZ', NULL, NULL, NULL, NULL, 40, '2026-11-05T09:00:00Z'),
 ('student-initiative', 'volunteer-league',
  '{"kk":"«Студенттік бастама»","ru":"«Студенческая инициатива»","en":"\"Student initiative\""}',
  '{"kk":"Мүгедектер мен қарттарға көмек","ru":"Помощь людям с инвалидностью и пожилым","en":"Help for people with disabilities and the elderly"}',
  '{"kk":"ЖОО мен колледж студенттерінің республикалық қозғалысы.","ru":"Республиканское движение студентов вузов и колледжей.","en":"A nationwide movement of university and college students."}',
  'EDUCATION', 'KZ', 'Karaganda', 'Karaganda', '2027-01-15T04:00:00Z', NULL, 120, '2026-11-10T09:00:00Z'),
 ('city-clean-up', 'leader-volunteers',
  '{"kk":"Қаланы тазалау күні","ru":"День чистоты города","en":"City clean-up day"}',
  '{"kk":"Экологиялық акция","ru":"Экологическая акция","en":"An environmental action"}',
  '{"kk":"Саябақтар мен өзен жағалауын тазалау.","ru":"Уборка парков и набережной.","en":"Cleaning parks and the riverside."}',
  'ENVIRONMENT', 'KZ', 'Shymkent', 'Shymkent', '2026-11-26T05:00:00Z', '2026-11-26T12:00:00Z', 60, '2026-11-12T09:00:00Z'),
 ('kindness-orphanage-visits', 'club-dobryakov',
  '{"kk":"Балалар үйіне сапар","ru":"Визиты в детский дом","en":"Orphanage visits"}',
  '{"kk":"Ойындар мен сабақтар","ru":"Игры и занятия","en":"Games and lessons"}',
  '{"kk":"Апта сайынғы сапарлар.","ru":"Еженедельные визиты.","en":"Weekly visits."}',
  'SOCIAL', 'KZ', 'Karaganda', 'Karaganda', NULL, NULL, 10, '2026-11-15T09:00:00Z'),
 ('victory-volunteers-russia', 'association-of-volunteer-centres',
  '{"kk":"Жеңіс волонтерлері","ru":"Волонтеры Победы","en":"Victory Volunteers"}',
  '{"kk":"Тарихи жадыны сақтау","ru":"Сохранение исторической памяти","en":"Keeping historical memory"}',
  '{"kk":"Ардагерлерге көмек және мұражай жұмысы.","ru":"Помощь ветеранам и музейная работа.","en":"Help for veterans and museum work."}',
  'CULTURE', 'RU', 'Moscow', 'Moscow', '2026-12-01T07:00:00Z', NULL, 500, '2026-10-05T09:00:00Z')
) AS p(slug, org, title, summary, description, direction, country, region, city, starts_at, ends_at, needed, created)
JOIN organizations o ON o.slug = p.org
ON CONFLICT (slug) DO UPDATE SET organization_id = EXCLUDED.organization_id, title = EXCLUDED.title,
    summary = EXCLUDED.summary, description = EXCLUDED.description, direction = EXCLUDED.direction,
    country = EXCLUDED.country, region = EXCLUDED.region, city = EXCLUDED.city, starts_at = EXCLUDED.starts_at,
    ends_at = EXCLUDED.ends_at, volunteers_needed = EXCLUDED.volunteers_needed
WHERE (projects.organization_id, projects.title, projects.summary, projects.description, projects.direction,
       projects.country, projects.region, projects.city, projects.starts_at, projects.ends_at, projects.volunteers_needed)
   IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.title, EXCLUDED.summary, EXCLUDED.description, EXCLUDED.direction,
       EXCLUDED.country, EXCLUDED.region, EXCLUDED.city, EXCLUDED.starts_at, EXCLUDED.ends_at, EXCLUDED.volunteers_needed);

INSERT INTO posts (slug, organization_id, title, body, view_count, created_at, published_at)
SELECT p.slug, o.id, p.title::jsonb, p.body::jsonb, p.views, p.at::timestamptz, p.at::timestamptz
FROM (VALUES
 ('tokayev-supports-year-of-volunteers', 'national-volunteer-network',
  '{"kk":"Тоқаев Волонтерлер жылы жайлы бастаманы қолдады","ru":"Токаев поддержал инициативу о Годе волонтеров","en":"Tokayev supported the Year of Volunteers initiative"}',
  '{"kk":"Волонтерлік – бұл сөзсіз өмір сүру стилі. Бір рет волонтер болуға бел бусаң, сен мәңгілікке волонтер боласың.\n\nБүгінгі күні елімізде **200-ден астам** волонтерлік ұйымдар бар. Тоқаев Ресей мен Қазақстан еріктілеріне арналған «Жыл волонтері» премиясын бекітуді ұсынды.","ru":"Волонтерство – это стиль жизни. Однажды став волонтером, ты остаешься им навсегда.\n\nСегодня в стране **более 200** волонтерских организаций. Токаев предложил учредить премию «Волонтер года» для добровольцев России и Казахстана.","en":"Volunteering is a way of life. Once you decide to become a volunteer, you stay one forever.\n\nToday the country has **more than 200** volunteer organizations. Tokayev proposed a \"Volunteer of the Year\" award for volunteers of Russia and Kazakhstan."}',
  7083, '2019-06-04T06:00:00Z'),
 ('how-to-choose-a-volunteer-project', 'national-volunteer-network',
  '{"kk":"Өзіңіз үшін волонтерлік жобаны қалай таңдауға болады: 10 қадам","ru":"Как выбрать волонтерский проект: 10 шагов","en":"How to choose a volunteer project: 10 steps"}',
  '{"kk":"Көмектесудің тамаша мүмкіндігін табудың 10 қадамы.","ru":"10 шагов, чтобы найти прекрасную возможность помогать.","en":"Ten steps to find a great way to help."}',
  917, '2024-04-14T06:00:00Z'),
 ('thank-you-volunteers', 'national-volunteer-network',
  '{"kk":"Волонтерлерге рақмет!","ru":"Спасибо волонтерам!","en":"Thank you, volunteers!"}',
  '{"kk":"Су тасқыны кезінде көмектескен барлық волонтерлерге алғыс.","ru":"Благодарим всех волонтеров, помогавших во время паводков.","en":"Thanks to every volunteer who helped during the floods."}',
  1041, '2024-04-11T06:00:00Z'),
 ('flood-legal-volunteers', 'national-volunteer-network',
  '{"kk":"Ұлттық волонтерлік желі заңгер волонтерлермен бірге апаттан зардап шеккендерге көмек көрсетуге дайын","ru":"Национальная волонтерская сеть вместе с волонтерами-юристами готова помочь пострадавшим от паводков","en":"The National Volunteer Network and volunteer lawyers stand ready to help flood victims"}',
  '{"kk":"Су тасқыны жағдайына байланысты заңгер волонтерлер тегін кеңес береді.","ru":"В связи с паводками волонтеры-юристы бесплатно консультируют пострадавших.","en":"Volunteer lawyers give free advice to those affected by the floods."}',
  367, '2024-04-10T06:00:00Z')
) AS p(slug, org, title, body, views, at)
JOIN organizations o ON o.slug = p.org
ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body
WHERE (posts.title, posts.body) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.body);

INSERT INTO awards (slug, title, description, year, countries, nomination_opens_at, nomination_closes_at,
                    voting_opens_at, voting_closes_at, results_published_at, live_counts)
VALUES
('volunteer-of-the-year-2020',
 '{"kk":"Жыл волонтері 2020","ru":"Волонтер года 2020","en":"Volunteer of the Year 2020"}',
 '{"kk":"Қазақстан мен Ресейдің үздік волонтерлік жобаларына берілетін премия.","ru":"Премия лучшим волонтерским проектам Казахстана и России.","en":"An award for the best volunteer projects of Kazakhstan and Russia."}',
 2020, '{KZ,RU}', '2020-02-01T00:00:00Z', '2020-04-30T18:00:00Z', '2020-06-01T00:00:00Z', '2020-11-30T18:00:00Z',
 '2020-12-05T06:00:00Z', false),
('volunteer-of-the-year-2026',
 '{"kk":"Жыл волонтері 2026","ru":"Волонтер года 2026","en":"Volunteer of the Year 2026"}',
 '{"kk":"Қазақстан мен Ресейдің үздік волонтерлік жобалары. Дауыс беру ашық!","ru":"Лучшие волонтерские проекты Казахстана и России. Голосование открыто!","en":"The best volunteer projects of Kazakhstan and Russia. Voting is open!"}',
 2026, '{KZ,RU}', '2026-09-01T00:00:00Z', '2026-10-31T18:00:00Z', '2026-11-01T00:00:00Z', '2026-12-15T18:00:00Z',
 NULL, true)
ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description;

INSERT INTO award_categories (award_id, position, title, description)
SELECT a.id, c.position, c.title::jsonb, c.description::jsonb
FROM awards a, (VALUES
 (1, '{"kk":"Үздік әлеуметтік жоба","ru":"Лучший социальный проект","en":"Best social project"}',
     '{"kk":"Балалар, қарттар және мұқтаж жандарға көмек","ru":"Помощь детям, пожилым и нуждающимся","en":"Help for children, the elderly and people in need"}'),
 (2, '{"kk":"Төтенше жағдайлардағы көмек","ru":"Помощь в чрезвычайных ситуациях","en":"Emergency response"}',
     '{"kk":"ТЖ кезіндегі волонтерлік","ru":"Волонтерство в ЧС","en":"Volunteering in emergencies"}'),
 (3, '{"kk":"Күміс волонтерлік","ru":"Серебряное волонтерство","en":"Silver volunteering"}',
     '{"kk":"Аға буын волонтерлері","ru":"Волонтеры старшего поколения","en":"Volunteers of the older generation"}'),
 (4, '{"kk":"Жастар бастамасы","ru":"Молодежная инициатива","en":"Youth initiative"}',
     '{"kk":"Жасөспірімдер мен студенттердің жобалары","ru":"Проекты школьников и студентов","en":"Projects by teenagers and students"}')
) AS c(position, title, description)
WHERE a.slug IN ('volunteer-of-the-year-2020', 'volunteer-of-the-year-2026')
ON CONFLICT (award_id, position) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description;

INSERT INTO nominations (category_id, nominee_name, nominee_key, nominee_kind, project_id, organization_id,
                         statement, country, region, status, moderated_at, created_at)
SELECT c.id, n.name, n.key, n.kind, p.id, o.id, n.statement, n.country, n.region, 'APPROVED', a.nomination_closes_at,
       a.nomination_opens_at + interval '1 day'
FROM (VALUES
 (1, '«Жеңіс» жобасы', 'жеңіс жобасы', 'PROJECT', 'zhenis-veterans', 'national-volunteer-network', 'Ардагерлерге бес мың рет көмек қолы созылды.', 'KZ', 'Astana'),
 (1, 'Шала туылған балаларға тоқыма', 'шала туылған балаларға тоқыма', 'PROJECT', 'knitting-for-premature-babies', '28-ilmek', 'Five years of knitting for premature babies.', 'KZ', 'Almaty'),
 (1, 'Волонтеры Победы', 'волонтеры победы', 'PROJECT', 'victory-volunteers-russia', 'association-of-volunteer-centres', 'Помощь ветеранам по всей России.', 'RU', 'Moscow'),
 (2, 'Су тасқынынан зардап шеккендерге көмек', 'су тасқынынан зардап шеккендерге көмек', 'PROJECT', 'flood-relief-2024', 'national-volunteer-network', 'Заңгер волонтерлер тегін кеңес берді.', 'KZ', 'Kostanay'),
 (2, 'Қазақстан Қызыл Жарты Ай қоғамы', 'қазақстан қызыл жарты ай қоғамы', 'ORGANIZATION', NULL, 'kazakhstan-red-crescent', 'Always first on the scene.', 'KZ', 'Almaty'),
 (3, 'Вера Ким', 'вера ким', 'PERSON', NULL, NULL, '«Ұлттық волонтерлік желі» төрағасы, 2020 жылды волонтерлер жылы деп атау бастамасының авторы.', 'KZ', 'Astana'),
 (3, '«Күміс волонтерлік» форумы', 'күміс волонтерлік форумы', 'PROJECT', 'silver-volunteers-forum', 'national-volunteer-network', 'Аға буынның тәжірибесі.', 'KZ', 'Kostanay'),
 (4, 'JasUlanTeam', 'jasulanteam', 'ORGANIZATION', NULL, 'jas-ulan', '3 мыңнан астам бала волонтерлікпен айналысады.', 'KZ', 'Astana'),
 (4, '«Студенттік бастама»', 'студенттік бастама', 'PROJECT', 'student-initiative', 'volunteer-league', 'A nationwide student movement.', 'KZ', 'Karaganda')
) AS n(position, name, key, kind, project, org, statement, country, region)
JOIN awards a ON a.slug IN ('volunteer-of-the-year-2020', 'volunteer-of-the-year-2026')
JOIN award_categories c ON c.award_id = a.id AND c.position = n.position
LEFT JOIN projects p ON p.slug = n.project
LEFT JOIN organizations o ON o.slug = n.org
ON CONFLICT (category_id, nominee_identity) WHERE status IN ('PENDING', 'APPROVED') DO NOTHING;
