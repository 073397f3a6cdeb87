-- Places with stable codes, localized like names: Kazakhstan's regions and cities of
-- republican significance, their regional centres, and Russia's federal subjects. Codes are
-- ISO 3166-2 for regions (KZ-39, RU-NVS; the list is ISO 3166-2:RU's 83 subjects) and
-- "<region code>-<LATIN NAME>" for a city that is not a region itself (KZ-39-KOSTANAY). A city of
-- republican or federal significance is both a region and a city under one code (KZ-71 Astana).

-- What search and place matching compare: lower case (by Unicode rules, whatever the database's
-- locale), ё as е, and the Kazakh letters as a Russian keyboard types them, so "Қостанай",
-- "Костанай" and "жазгы" meet "жазғы".
CREATE FUNCTION search_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT translate(lower(t COLLATE "en-US"), 'ёәғқңөұүһі', 'еагкноуухи')
$$;

-- A place name without the words that say what kind of place it is ("область", "oblysy",
-- "Region", "край", "Республика"…), for matching what people type.
CREATE FUNCTION place_key(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT coalesce(string_agg(w, ' ' ORDER BY n), '')
    FROM regexp_split_to_table(search_fold(t), '[^[:alnum:]]+') WITH ORDINALITY AS x(w, n)
    WHERE w <> '' AND w NOT IN (
        'облысы', 'облыс', 'область', 'обл', 'region', 'oblast', 'oblysy', 'province',
        'өлкесі', 'олкеси', 'край', 'krai', 'kray', 'territory',
        'республикасы', 'республика', 'republic', 'of', 'the',
        'автономиялык', 'автономныи', 'автономныи', 'автономная', 'автономный', 'autonomous',
        'округи', 'округ', 'okrug', 'district',
        'каласы', 'город', 'г', 'city', 'kalasy', 'qalasy')
$$;

CREATE TABLE places (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}-[A-Z0-9]+(-[A-Z0-9]+)*$'),
    country    text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    -- The region a city lies in; NULL for regions.
    region_code text REFERENCES places (code),
    is_region  boolean NOT NULL,
    is_city    boolean NOT NULL,
    name       jsonb NOT NULL CHECK (i18n_valid(name) AND name ? 'kk' AND name ? 'ru' AND name ? 'en'),
    -- Other spellings people use ("Uralsk", "Kostanai"); matched like the names.
    aliases    text[] NOT NULL DEFAULT '{}',
    CHECK (is_region OR is_city),
    CHECK (left(code, 2) = country)
);

-- Every folded spelling of a place: whole, or (`bare`) without its kind words.
CREATE FUNCTION place_keys(name jsonb, aliases text[], bare boolean) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT k), '{}') FROM (
        SELECT CASE WHEN bare THEN place_key(s) ELSE search_fold(s) END AS k
        FROM unnest(ARRAY[name->>'kk', name->>'ru', name->>'en'] || aliases) s
    ) keys WHERE k <> ''
$$;

INSERT INTO places (code, country, region_code, is_region, is_city, name, aliases) VALUES
-- Kazakhstan: the regions, then the cities of republican significance (regions too).
('KZ-10', 'KZ', NULL, true, false, '{"kk": "Абай облысы", "ru": "Абайская область", "en": "Abai Region"}', '{Абай,Abay}'),
('KZ-11', 'KZ', NULL, true, false, '{"kk": "Ақмола облысы", "ru": "Акмолинская область", "en": "Akmola Region"}', '{Акмола,Aqmola}'),
('KZ-15', 'KZ', NULL, true, false, '{"kk": "Ақтөбе облысы", "ru": "Актюбинская область", "en": "Aktobe Region"}', '{Актобе,Aqtobe}'),
('KZ-19', 'KZ', NULL, true, false, '{"kk": "Алматы облысы", "ru": "Алматинская область", "en": "Almaty Region"}', '{}'),
('KZ-23', 'KZ', NULL, true, false, '{"kk": "Атырау облысы", "ru": "Атырауская область", "en": "Atyrau Region"}', '{}'),
('KZ-27', 'KZ', NULL, true, false, '{"kk": "Батыс Қазақстан облысы", "ru": "Западно-Казахстанская область", "en": "West Kazakhstan Region"}', '{ЗКО,"Batys Kazakhstan"}'),
('KZ-31', 'KZ', NULL, true, false, '{"kk": "Жамбыл облысы", "ru": "Жамбылская область", "en": "Jambyl Region"}', '{Жамбыл,Zhambyl}'),
('KZ-33', 'KZ', NULL, true, false, '{"kk": "Жетісу облысы", "ru": "Жетысуская область", "en": "Jetisu Region"}', '{Жетысу,Zhetysu,Zhetisu}'),
('KZ-35', 'KZ', NULL, true, false, '{"kk": "Қарағанды облысы", "ru": "Карагандинская область", "en": "Karaganda Region"}', '{Qaragandy,Karagandy}'),
('KZ-39', 'KZ', NULL, true, false, '{"kk": "Қостанай облысы", "ru": "Костанайская область", "en": "Kostanay Region"}', '{Qostanai,Kostanai}'),
('KZ-43', 'KZ', NULL, true, false, '{"kk": "Қызылорда облысы", "ru": "Кызылординская область", "en": "Kyzylorda Region"}', '{Qyzylorda}'),
('KZ-47', 'KZ', NULL, true, false, '{"kk": "Маңғыстау облысы", "ru": "Мангистауская область", "en": "Mangystau Region"}', '{Мангистау,Mangghystau,Mangistau}'),
('KZ-55', 'KZ', NULL, true, false, '{"kk": "Павлодар облысы", "ru": "Павлодарская область", "en": "Pavlodar Region"}', '{}'),
('KZ-59', 'KZ', NULL, true, false, '{"kk": "Солтүстік Қазақстан облысы", "ru": "Северо-Казахстанская область", "en": "North Kazakhstan Region"}', '{СКО,"Soltustik Kazakhstan"}'),
('KZ-61', 'KZ', NULL, true, false, '{"kk": "Түркістан облысы", "ru": "Туркестанская область", "en": "Turkistan Region"}', '{Туркестан,Turkestan}'),
('KZ-62', 'KZ', NULL, true, false, '{"kk": "Ұлытау облысы", "ru": "Улытауская область", "en": "Ulytau Region"}', '{Улытау}'),
('KZ-63', 'KZ', NULL, true, false, '{"kk": "Шығыс Қазақстан облысы", "ru": "Восточно-Казахстанская область", "en": "East Kazakhstan Region"}', '{ВКО,"Shygys Kazakhstan"}'),
('KZ-71', 'KZ', NULL, true, true, '{"kk": "Астана", "ru": "Астана", "en": "Astana"}', '{Нур-Султан,Nur-Sultan,Акмола}'),
('KZ-75', 'KZ', NULL, true, true, '{"kk": "Алматы", "ru": "Алматы", "en": "Almaty"}', '{Алма-Ата,Alma-Ata}'),
('KZ-79', 'KZ', NULL, true, true, '{"kk": "Шымкент", "ru": "Шымкент", "en": "Shymkent"}', '{Чимкент,Chimkent}'),
-- Russia: republics, krais, oblasts, cities of federal significance, the autonomous oblast and
-- okrugs.
('RU-AD', 'RU', NULL, true, false, '{"kk": "Адыгея Республикасы", "ru": "Республика Адыгея", "en": "Republic of Adygea"}', '{Адыгея,Adygeya}'),
('RU-AL', 'RU', NULL, true, false, '{"kk": "Алтай Республикасы", "ru": "Республика Алтай", "en": "Altai Republic"}', '{}'),
('RU-BA', 'RU', NULL, true, false, '{"kk": "Башқұртстан Республикасы", "ru": "Республика Башкортостан", "en": "Republic of Bashkortostan"}', '{Башкирия,Bashkiria}'),
('RU-BU', 'RU', NULL, true, false, '{"kk": "Бурятия Республикасы", "ru": "Республика Бурятия", "en": "Republic of Buryatia"}', '{Бурятия}'),
('RU-CE', 'RU', NULL, true, false, '{"kk": "Шешен Республикасы", "ru": "Чеченская Республика", "en": "Chechen Republic"}', '{Чечня,Chechnya}'),
('RU-CU', 'RU', NULL, true, false, '{"kk": "Чуваш Республикасы", "ru": "Чувашская Республика", "en": "Chuvash Republic"}', '{Чувашия,Chuvashia}'),
('RU-DA', 'RU', NULL, true, false, '{"kk": "Дағыстан Республикасы", "ru": "Республика Дагестан", "en": "Republic of Dagestan"}', '{Дагестан}'),
('RU-IN', 'RU', NULL, true, false, '{"kk": "Ингушетия Республикасы", "ru": "Республика Ингушетия", "en": "Republic of Ingushetia"}', '{Ингушетия}'),
('RU-KB', 'RU', NULL, true, false, '{"kk": "Кабардин-Балқар Республикасы", "ru": "Кабардино-Балкарская Республика", "en": "Kabardino-Balkarian Republic"}', '{Кабардино-Балкария,Kabardino-Balkaria}'),
('RU-KL', 'RU', NULL, true, false, '{"kk": "Қалмақ Республикасы", "ru": "Республика Калмыкия", "en": "Republic of Kalmykia"}', '{Калмыкия}'),
('RU-KC', 'RU', NULL, true, false, '{"kk": "Қарашай-Шеркес Республикасы", "ru": "Карачаево-Черкесская Республика", "en": "Karachay-Cherkess Republic"}', '{Карачаево-Черкесия,Karachay-Cherkessia}'),
('RU-KR', 'RU', NULL, true, false, '{"kk": "Карелия Республикасы", "ru": "Республика Карелия", "en": "Republic of Karelia"}', '{Карелия}'),
('RU-KK', 'RU', NULL, true, false, '{"kk": "Хакасия Республикасы", "ru": "Республика Хакасия", "en": "Republic of Khakassia"}', '{Хакасия}'),
('RU-KO', 'RU', NULL, true, false, '{"kk": "Коми Республикасы", "ru": "Республика Коми", "en": "Komi Republic"}', '{}'),
('RU-ME', 'RU', NULL, true, false, '{"kk": "Марий Эл Республикасы", "ru": "Республика Марий Эл", "en": "Mari El Republic"}', '{}'),
('RU-MO', 'RU', NULL, true, false, '{"kk": "Мордовия Республикасы", "ru": "Республика Мордовия", "en": "Republic of Mordovia"}', '{Мордовия}'),
('RU-SA', 'RU', NULL, true, false, '{"kk": "Саха (Якутия) Республикасы", "ru": "Республика Саха (Якутия)", "en": "Sakha (Yakutia) Republic"}', '{Якутия,Yakutia}'),
('RU-SE', 'RU', NULL, true, false, '{"kk": "Солтүстік Осетия – Алания Республикасы", "ru": "Республика Северная Осетия — Алания", "en": "Republic of North Ossetia–Alania"}', '{"Северная Осетия","North Ossetia"}'),
('RU-TA', 'RU', NULL, true, false, '{"kk": "Татарстан Республикасы", "ru": "Республика Татарстан", "en": "Republic of Tatarstan"}', '{Татарстан}'),
('RU-TY', 'RU', NULL, true, false, '{"kk": "Тыва Республикасы", "ru": "Республика Тыва", "en": "Tuva Republic"}', '{Тыва,Тува,Tyva}'),
('RU-UD', 'RU', NULL, true, false, '{"kk": "Удмурт Республикасы", "ru": "Удмуртская Республика", "en": "Udmurt Republic"}', '{Удмуртия,Udmurtia}'),
('RU-ALT', 'RU', NULL, true, false, '{"kk": "Алтай өлкесі", "ru": "Алтайский край", "en": "Altai Krai"}', '{}'),
('RU-KAM', 'RU', NULL, true, false, '{"kk": "Камчатка өлкесі", "ru": "Камчатский край", "en": "Kamchatka Krai"}', '{Камчатка}'),
('RU-KHA', 'RU', NULL, true, false, '{"kk": "Хабаровск өлкесі", "ru": "Хабаровский край", "en": "Khabarovsk Krai"}', '{}'),
('RU-KDA', 'RU', NULL, true, false, '{"kk": "Краснодар өлкесі", "ru": "Краснодарский край", "en": "Krasnodar Krai"}', '{Кубань,Kuban}'),
('RU-KYA', 'RU', NULL, true, false, '{"kk": "Красноярск өлкесі", "ru": "Красноярский край", "en": "Krasnoyarsk Krai"}', '{}'),
('RU-PER', 'RU', NULL, true, false, '{"kk": "Пермь өлкесі", "ru": "Пермский край", "en": "Perm Krai"}', '{}'),
('RU-PRI', 'RU', NULL, true, false, '{"kk": "Приморье өлкесі", "ru": "Приморский край", "en": "Primorsky Krai"}', '{Приморье,Primorye}'),
('RU-STA', 'RU', NULL, true, false, '{"kk": "Ставрополь өлкесі", "ru": "Ставропольский край", "en": "Stavropol Krai"}', '{}'),
('RU-ZAB', 'RU', NULL, true, false, '{"kk": "Забайкал өлкесі", "ru": "Забайкальский край", "en": "Zabaykalsky Krai"}', '{Забайкалье,Zabaykalye}'),
('RU-AMU', 'RU', NULL, true, false, '{"kk": "Амур облысы", "ru": "Амурская область", "en": "Amur Oblast"}', '{}'),
('RU-ARK', 'RU', NULL, true, false, '{"kk": "Архангельск облысы", "ru": "Архангельская область", "en": "Arkhangelsk Oblast"}', '{}'),
('RU-AST', 'RU', NULL, true, false, '{"kk": "Астрахань облысы", "ru": "Астраханская область", "en": "Astrakhan Oblast"}', '{}'),
('RU-BEL', 'RU', NULL, true, false, '{"kk": "Белгород облысы", "ru": "Белгородская область", "en": "Belgorod Oblast"}', '{}'),
('RU-BRY', 'RU', NULL, true, false, '{"kk": "Брянск облысы", "ru": "Брянская область", "en": "Bryansk Oblast"}', '{}'),
('RU-CHE', 'RU', NULL, true, false, '{"kk": "Челябі облысы", "ru": "Челябинская область", "en": "Chelyabinsk Oblast"}', '{Челябинск}'),
('RU-IRK', 'RU', NULL, true, false, '{"kk": "Иркутск облысы", "ru": "Иркутская область", "en": "Irkutsk Oblast"}', '{}'),
('RU-IVA', 'RU', NULL, true, false, '{"kk": "Иваново облысы", "ru": "Ивановская область", "en": "Ivanovo Oblast"}', '{}'),
('RU-KGD', 'RU', NULL, true, false, '{"kk": "Калининград облысы", "ru": "Калининградская область", "en": "Kaliningrad Oblast"}', '{}'),
('RU-KLU', 'RU', NULL, true, false, '{"kk": "Калуга облысы", "ru": "Калужская область", "en": "Kaluga Oblast"}', '{}'),
('RU-KEM', 'RU', NULL, true, false, '{"kk": "Кемерово облысы", "ru": "Кемеровская область — Кузбасс", "en": "Kemerovo Oblast"}', '{Кузбасс,Kuzbass}'),
('RU-KIR', 'RU', NULL, true, false, '{"kk": "Киров облысы", "ru": "Кировская область", "en": "Kirov Oblast"}', '{}'),
('RU-KOS', 'RU', NULL, true, false, '{"kk": "Кострома облысы", "ru": "Костромская область", "en": "Kostroma Oblast"}', '{}'),
('RU-KGN', 'RU', NULL, true, false, '{"kk": "Қорған облысы", "ru": "Курганская область", "en": "Kurgan Oblast"}', '{Курган}'),
('RU-KRS', 'RU', NULL, true, false, '{"kk": "Курск облысы", "ru": "Курская область", "en": "Kursk Oblast"}', '{}'),
('RU-LEN', 'RU', NULL, true, false, '{"kk": "Ленинград облысы", "ru": "Ленинградская область", "en": "Leningrad Oblast"}', '{}'),
('RU-LIP', 'RU', NULL, true, false, '{"kk": "Липецк облысы", "ru": "Липецкая область", "en": "Lipetsk Oblast"}', '{}'),
('RU-MAG', 'RU', NULL, true, false, '{"kk": "Магадан облысы", "ru": "Магаданская область", "en": "Magadan Oblast"}', '{}'),
('RU-MOS', 'RU', NULL, true, false, '{"kk": "Мәскеу облысы", "ru": "Московская область", "en": "Moscow Oblast"}', '{Подмосковье}'),
('RU-MUR', 'RU', NULL, true, false, '{"kk": "Мурманск облысы", "ru": "Мурманская область", "en": "Murmansk Oblast"}', '{}'),
('RU-NIZ', 'RU', NULL, true, false, '{"kk": "Нижний Новгород облысы", "ru": "Нижегородская область", "en": "Nizhny Novgorod Oblast"}', '{}'),
('RU-NGR', 'RU', NULL, true, false, '{"kk": "Новгород облысы", "ru": "Новгородская область", "en": "Novgorod Oblast"}', '{}'),
('RU-NVS', 'RU', NULL, true, false, '{"kk": "Новосібір облысы", "ru": "Новосибирская область", "en": "Novosibirsk Oblast"}', '{Новосибирск}'),
('RU-OMS', 'RU', NULL, true, false, '{"kk": "Омбы облысы", "ru": "Омская область", "en": "Omsk Oblast"}', '{Омск}'),
('RU-ORE', 'RU', NULL, true, false, '{"kk": "Орынбор облысы", "ru": "Оренбургская область", "en": "Orenburg Oblast"}', '{Оренбург}'),
('RU-ORL', 'RU', NULL, true, false, '{"kk": "Орел облысы", "ru": "Орловская область", "en": "Oryol Oblast"}', '{}'),
('RU-PNZ', 'RU', NULL, true, false, '{"kk": "Пенза облысы", "ru": "Пензенская область", "en": "Penza Oblast"}', '{}'),
('RU-PSK', 'RU', NULL, true, false, '{"kk": "Псков облысы", "ru": "Псковская область", "en": "Pskov Oblast"}', '{}'),
('RU-ROS', 'RU', NULL, true, false, '{"kk": "Ростов облысы", "ru": "Ростовская область", "en": "Rostov Oblast"}', '{}'),
('RU-RYA', 'RU', NULL, true, false, '{"kk": "Рязань облысы", "ru": "Рязанская область", "en": "Ryazan Oblast"}', '{}'),
('RU-SAK', 'RU', NULL, true, false, '{"kk": "Сахалин облысы", "ru": "Сахалинская область", "en": "Sakhalin Oblast"}', '{}'),
('RU-SAM', 'RU', NULL, true, false, '{"kk": "Самара облысы", "ru": "Самарская область", "en": "Samara Oblast"}', '{}'),
('RU-SAR', 'RU', NULL, true, false, '{"kk": "Саратов облысы", "ru": "Саратовская область", "en": "Saratov Oblast"}', '{}'),
('RU-SMO', 'RU', NULL, true, false, '{"kk": "Смоленск облысы", "ru": "Смоленская область", "en": "Smolensk Oblast"}', '{}'),
('RU-SVE', 'RU', NULL, true, false, '{"kk": "Свердлов облысы", "ru": "Свердловская область", "en": "Sverdlovsk Oblast"}', '{}'),
('RU-TAM', 'RU', NULL, true, false, '{"kk": "Тамбов облысы", "ru": "Тамбовская область", "en": "Tambov Oblast"}', '{}'),
('RU-TOM', 'RU', NULL, true, false, '{"kk": "Томбы облысы", "ru": "Томская область", "en": "Tomsk Oblast"}', '{Томск}'),
('RU-TUL', 'RU', NULL, true, false, '{"kk": "Тула облысы", "ru": "Тульская область", "en": "Tula Oblast"}', '{}'),
('RU-TVE', 'RU', NULL, true, false, '{"kk": "Тверь облысы", "ru": "Тверская область", "en": "Tver Oblast"}', '{}'),
('RU-TYU', 'RU', NULL, true, false, '{"kk": "Түмен облысы", "ru": "Тюменская область", "en": "Tyumen Oblast"}', '{Тюмень}'),
('RU-ULY', 'RU', NULL, true, false, '{"kk": "Ульяновск облысы", "ru": "Ульяновская область", "en": "Ulyanovsk Oblast"}', '{}'),
('RU-VLA', 'RU', NULL, true, false, '{"kk": "Владимир облысы", "ru": "Владимирская область", "en": "Vladimir Oblast"}', '{}'),
('RU-VGG', 'RU', NULL, true, false, '{"kk": "Волгоград облысы", "ru": "Волгоградская область", "en": "Volgograd Oblast"}', '{}'),
('RU-VLG', 'RU', NULL, true, false, '{"kk": "Вологда облысы", "ru": "Вологодская область", "en": "Vologda Oblast"}', '{}'),
('RU-VOR', 'RU', NULL, true, false, '{"kk": "Воронеж облысы", "ru": "Воронежская область", "en": "Voronezh Oblast"}', '{}'),
('RU-YAR', 'RU', NULL, true, false, '{"kk": "Ярославль облысы", "ru": "Ярославская область", "en": "Yaroslavl Oblast"}', '{}'),
('RU-MOW', 'RU', NULL, true, true, '{"kk": "Мәскеу", "ru": "Москва", "en": "Moscow"}', '{}'),
('RU-SPE', 'RU', NULL, true, true, '{"kk": "Санкт-Петербор", "ru": "Санкт-Петербург", "en": "Saint Petersburg"}', '{Петербург,"St Petersburg"}'),
('RU-YEV', 'RU', NULL, true, false, '{"kk": "Еврей автономиялық облысы", "ru": "Еврейская автономная область", "en": "Jewish Autonomous Oblast"}', '{}'),
('RU-CHU', 'RU', NULL, true, false, '{"kk": "Чукотка автономиялық округі", "ru": "Чукотский автономный округ", "en": "Chukotka Autonomous Okrug"}', '{Чукотка}'),
('RU-KHM', 'RU', NULL, true, false, '{"kk": "Ханты-Мансий автономиялық округі — Югра", "ru": "Ханты-Мансийский автономный округ — Югра", "en": "Khanty-Mansi Autonomous Okrug – Yugra"}', '{Югра,ХМАО,Yugra}'),
('RU-NEN', 'RU', NULL, true, false, '{"kk": "Ненец автономиялық округі", "ru": "Ненецкий автономный округ", "en": "Nenets Autonomous Okrug"}', '{НАО}'),
('RU-YAN', 'RU', NULL, true, false, '{"kk": "Ямал-Ненец автономиялық округі", "ru": "Ямало-Ненецкий автономный округ", "en": "Yamalo-Nenets Autonomous Okrug"}', '{ЯНАО,Ямал,Yamal}'),
-- Kazakhstan's regional centres.
('KZ-10-SEMEY', 'KZ', 'KZ-10', false, true, '{"kk": "Семей", "ru": "Семей", "en": "Semey"}', '{Семипалатинск,Semipalatinsk}'),
('KZ-11-KOKSHETAU', 'KZ', 'KZ-11', false, true, '{"kk": "Көкшетау", "ru": "Кокшетау", "en": "Kokshetau"}', '{}'),
('KZ-15-AKTOBE', 'KZ', 'KZ-15', false, true, '{"kk": "Ақтөбе", "ru": "Актобе", "en": "Aktobe"}', '{Актюбинск,Aqtobe}'),
('KZ-19-KONAEV', 'KZ', 'KZ-19', false, true, '{"kk": "Қонаев", "ru": "Конаев", "en": "Konaev"}', '{Капшагай,Qonaev,Kapchagay}'),
('KZ-23-ATYRAU', 'KZ', 'KZ-23', false, true, '{"kk": "Атырау", "ru": "Атырау", "en": "Atyrau"}', '{}'),
('KZ-27-ORAL', 'KZ', 'KZ-27', false, true, '{"kk": "Орал", "ru": "Уральск", "en": "Oral"}', '{Uralsk}'),
('KZ-31-TARAZ', 'KZ', 'KZ-31', false, true, '{"kk": "Тараз", "ru": "Тараз", "en": "Taraz"}', '{}'),
('KZ-33-TALDYKORGAN', 'KZ', 'KZ-33', false, true, '{"kk": "Талдықорған", "ru": "Талдыкорган", "en": "Taldykorgan"}', '{Taldyqorgan}'),
('KZ-35-KARAGANDA', 'KZ', 'KZ-35', false, true, '{"kk": "Қарағанды", "ru": "Караганда", "en": "Karaganda"}', '{Qaragandy,Karagandy}'),
('KZ-39-KOSTANAY', 'KZ', 'KZ-39', false, true, '{"kk": "Қостанай", "ru": "Костанай", "en": "Kostanay"}', '{Qostanai,Kostanai,Кустанай}'),
('KZ-43-KYZYLORDA', 'KZ', 'KZ-43', false, true, '{"kk": "Қызылорда", "ru": "Кызылорда", "en": "Kyzylorda"}', '{Qyzylorda}'),
('KZ-47-AKTAU', 'KZ', 'KZ-47', false, true, '{"kk": "Ақтау", "ru": "Актау", "en": "Aktau"}', '{Aqtau}'),
('KZ-55-PAVLODAR', 'KZ', 'KZ-55', false, true, '{"kk": "Павлодар", "ru": "Павлодар", "en": "Pavlodar"}', '{}'),
('KZ-59-PETROPAVL', 'KZ', 'KZ-59', false, true, '{"kk": "Петропавл", "ru": "Петропавловск", "en": "Petropavl"}', '{Petropavlovsk}'),
('KZ-61-TURKISTAN', 'KZ', 'KZ-61', false, true, '{"kk": "Түркістан", "ru": "Туркестан", "en": "Turkistan"}', '{Turkestan}'),
('KZ-62-ZHEZKAZGAN', 'KZ', 'KZ-62', false, true, '{"kk": "Жезқазған", "ru": "Жезказган", "en": "Zhezkazgan"}', '{Jezkazgan}'),
('KZ-63-OSKEMEN', 'KZ', 'KZ-63', false, true, '{"kk": "Өскемен", "ru": "Усть-Каменогорск", "en": "Oskemen"}', '{Ust-Kamenogorsk,Өскемен}');

ALTER TABLE places
    ADD COLUMN whole_keys text[] GENERATED ALWAYS AS (place_keys(name, aliases, false)) STORED,
    ADD COLUMN bare_keys text[] GENERATED ALWAYS AS (place_keys(name, aliases, true)) STORED;

-- The place a text names: a whole spelling first, else one without its kind words; only when
-- exactly one place of the wanted kind (and country, when given) answers.
CREATE FUNCTION place_match(p_country text, p_text text, p_region boolean) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH whole AS (
        SELECT code FROM places
        WHERE whole_keys @> ARRAY[search_fold(btrim(p_text))]
          AND (p_country IS NULL OR country = p_country)
          AND (CASE WHEN p_region THEN is_region ELSE is_city END)
    ), bare AS (
        SELECT code FROM places
        WHERE bare_keys @> ARRAY[place_key(p_text)]
          AND (p_country IS NULL OR country = p_country)
          AND (CASE WHEN p_region THEN is_region ELSE is_city END)
    )
    SELECT CASE
        WHEN (SELECT count(*) FROM whole) = 1 THEN (SELECT code FROM whole)
        WHEN (SELECT count(*) FROM whole) = 0 AND (SELECT count(*) FROM bare) = 1 THEN (SELECT code FROM bare)
    END
$$;

-- Rows name their region and city by code; the free text stays for places not in the list.
-- `place_names` holds every translation of both places for search, kept by the trigger below.
ALTER TABLE organizations
    ADD COLUMN region_code text REFERENCES places (code),
    ADD COLUMN city_code text REFERENCES places (code),
    ADD COLUMN place_names text NOT NULL DEFAULT '';
ALTER TABLE projects
    ADD COLUMN region_code text REFERENCES places (code),
    ADD COLUMN city_code text REFERENCES places (code),
    ADD COLUMN place_names text NOT NULL DEFAULT '';

CREATE FUNCTION set_place_names() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.place_names := coalesce((
        SELECT string_agg(i18n_all(p.name) || ' ' || array_to_string(p.aliases, ' '), ' ' ORDER BY p.code)
        FROM places p WHERE p.code IN (NEW.region_code, NEW.city_code)
    ), '');
    RETURN NEW;
END
$$;
CREATE TRIGGER organizations_place_names BEFORE INSERT OR UPDATE OF region_code, city_code ON organizations
    FOR EACH ROW EXECUTE FUNCTION set_place_names();
CREATE TRIGGER projects_place_names BEFORE INSERT OR UPDATE OF region_code, city_code ON projects
    FOR EACH ROW EXECUTE FUNCTION set_place_names();

-- The rows written before the list: their free text, where it names one place.
UPDATE organizations SET region_code = place_match(country, region, true) WHERE region IS NOT NULL;
UPDATE organizations SET city_code = place_match(country, city, false) WHERE city IS NOT NULL;
UPDATE projects SET region_code = place_match(country, region, true) WHERE region IS NOT NULL;
UPDATE projects SET city_code = place_match(country, city, false) WHERE city IS NOT NULL;

-- Search reads the places' names in every language, folded like the queries.
ALTER TABLE organizations DROP COLUMN search_text;
ALTER TABLE organizations ADD COLUMN search_text text GENERATED ALWAYS AS (search_fold(i18n_all(name) || ' ' || i18n_all(description) || ' ' || coalesce(city, '') || ' ' || coalesce(region, '') || ' ' || place_names)) STORED;
CREATE INDEX organizations_search_trgm_idx ON organizations USING gin (search_text gin_trgm_ops);
CREATE INDEX organizations_search_fts_idx ON organizations USING gin (to_tsvector('simple', search_text));
ALTER TABLE projects DROP COLUMN search_text;
ALTER TABLE projects ADD COLUMN search_text text GENERATED ALWAYS AS (search_fold(i18n_all(title) || ' ' || i18n_all(summary) || ' ' || i18n_all(description) || ' ' || coalesce(city, '') || ' ' || coalesce(region, '') || ' ' || place_names)) STORED;
CREATE INDEX projects_search_trgm_idx ON projects USING gin (search_text gin_trgm_ops);
CREATE INDEX projects_search_fts_idx ON projects USING gin (to_tsvector('simple', search_text));
ALTER TABLE posts DROP COLUMN search_text;
ALTER TABLE posts ADD COLUMN search_text text GENERATED ALWAYS AS (search_fold(i18n_all(title) || ' ' || i18n_all(body))) STORED;
CREATE INDEX posts_search_trgm_idx ON posts USING gin (search_text gin_trgm_ops);
CREATE INDEX posts_search_fts_idx ON posts USING gin (to_tsvector('simple', search_text));

CREATE INDEX organizations_region_code_idx ON organizations (region_code);
CREATE INDEX organizations_city_code_idx ON organizations (city_code);
CREATE INDEX projects_place_idx ON projects (status, region_code, city_code);
CREATE INDEX projects_city_code_idx ON projects (city_code);
